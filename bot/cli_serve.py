"""`partnerbot run`, `serve` and `scheduler`: the long-running processes."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from core.redact import setup_logging
from core.settings import Settings
from bot.cli_common import CommandError, prepare
from bot.cli_data import demo_console

log = logging.getLogger("partnerbot")
NO_TOKENS = """\
No Slack tokens are set, so partnerbot is opening its offline console on a demo
workspace (partnerbot-demo.db) instead of connecting to Slack. To run it for
real: create the app at https://api.slack.com/apps -> Create New App -> From an
app manifest, paste manifest.yml, install it to your workspace, then copy the
Bot User OAuth Token (xoxb-...) into SLACK_BOT_TOKEN and create an app-level
token with the connections:write scope (Basic Information -> App-Level Tokens)
for SLACK_APP_TOKEN; put both in .env and run `make run` again.
"""


class _Harmless(logging.Filter):
    """Drops library lines that are noise here: Bolt warns that it ignores the
    SLACK_BOT_TOKEN it reads from the environment, because we hand it the client
    built from that same token; a refused app token is reported by cmd_run."""

    DROP = ("As you gave `client` as well, `token` will be unused",
            "Failed to retrieve WSS URL")  # cmd_run says why Slack refused SLACK_APP_TOKEN, in one line

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.DROP)


def quiet_start(settings: Settings) -> None:
    """INFO logging for our own lines; libraries only from WARNING, so the line that
    matters ("serving on …", "connected …") is the first one a person reads."""
    setup_logging(settings)
    for name in ("apscheduler", "slack_sdk", "slack_bolt", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    bolt = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _Harmless) for f in bolt.filters):
        bolt.addFilter(_Harmless())


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.secret("slack_bot_token") or not settings.secret("slack_app_token"):
        print(NO_TOKENS, file=sys.stderr)
        return demo_console(settings)
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    prepare(settings)
    quiet_start(settings)
    app = _connect(settings)
    scheduler = None if args.no_scheduler else _start_scheduler(settings)
    handler = SocketModeHandler(app, app_token=settings.secret("slack_app_token"), web_client=app.client)
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        handler.connect()  # Slack refusing the app token raises here, before we say "connected"
        log.info("partnerbot connected in Socket Mode; Ctrl-C stops it")
        threading.Event().wait()  # blocks as handler.start() would, without its boot banner on stdout
    except KeyboardInterrupt:
        log.info("shutting down")
    except SlackApiError as error:
        raise CommandError(
            f"Slack refused SLACK_APP_TOKEN ({error.response.get('error')}); create an app-level token with the "
            "connections:write scope (Basic Information → App-Level Tokens) and make sure Socket Mode is on"
        ) from None
    finally:
        handler.close()
        if scheduler is not None:
            scheduler.shutdown(wait=True)  # lets a job that is sending finish
    return 0


def _connect(settings: Settings):
    """The Bolt app, after Slack accepted the bot token (one clear line if not)."""
    from slack_bolt.error import BoltError

    from bot.app import build_app

    sdk = logging.getLogger("slack_sdk.web.base_client")
    level = sdk.level
    sdk.setLevel(logging.CRITICAL)  # a failure here is said once, below, in our words
    try:
        app = build_app(settings)
        # Bolt copies the root logger's level onto its own when the app is built: its
        # INFO (socket sessions opened and closed) is library detail; warnings stay.
        app.logger.setLevel(max(app.logger.level, logging.WARNING))
        return app
    except BoltError as error:
        reason = "invalid_auth" if "invalid_auth" in str(error) else str(error).splitlines()[0][:120]
        raise CommandError(f"Slack refused SLACK_BOT_TOKEN ({reason}); copy the Bot User OAuth Token again") from None
    except OSError as error:
        reason = getattr(error, "reason", None) or error
        raise CommandError(f"cannot reach Slack at {settings.slack_api_url} ({reason}); check the network or SLACK_API_URL") from None
    finally:
        sdk.setLevel(level)


def job_slack(settings: Settings):
    from bot.app import web_client
    from bot.slack import JobSlack

    return JobSlack(web_client(settings), settings.zone)


def _start_scheduler(settings: Settings):
    from core import outbound
    from bot import scheduler as scheduling

    outbound.validate(settings)
    slack = job_slack(settings)
    scheduler = scheduling.build(settings, slack)
    scheduler.start()
    threading.Thread(target=scheduling.catch_up, args=(settings, slack), name="catch-up", daemon=True).start()
    log.info("scheduler started (%s)", settings.timezone)
    return scheduler


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    # SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET: checked with every other setting (bot/cli.py `requires`)
    from bot.web import make_server

    prepare(settings)
    quiet_start(settings)
    if args.workers > 1:
        _connect(settings)  # fail fast, in one line, before forking
        return _serve_workers(args, settings)
    app = _connect(settings)
    server = make_server(app, host=args.host, port=args.port or settings.port, threads=settings.server_threads)
    scheduler = None if args.no_scheduler else _start_scheduler(settings)
    stop = threading.Event()

    def shutdown(signum, frame) -> None:
        if not stop.is_set():
            stop.set()
            log.info("shutting down")
            server.close()
            if scheduler is not None:
                scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, shutdown)
    log.info("partnerbot serving on http://%s:%s/slack/events", args.host, server.effective_port)
    try:
        server.run()
    except KeyboardInterrupt:
        shutdown(signal.SIGINT, None)
    return 0


def _serve_workers(args: argparse.Namespace, settings: Settings) -> int:
    """Several web processes; the scheduler runs in one separate process, never one per worker."""
    import subprocess

    from bot.web import serve_workers

    scheduler = None
    if not args.no_scheduler:
        scheduler = subprocess.Popen([sys.executable, "-m", "bot", "scheduler"])
    try:
        serve_workers(settings, host=args.host, port=args.port or settings.port, workers=args.workers)
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.wait(timeout=30)
    return 0


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    # SLACK_BOT_TOKEN: checked with every other setting (bot/cli.py `requires`)
    from core import outbound
    from bot import scheduler as scheduling

    outbound.validate(settings)
    prepare(settings)
    quiet_start(settings)
    slack = job_slack(settings)
    scheduling.catch_up(settings, slack)
    scheduler = scheduling.build(settings, slack, blocking=True)
    signal.signal(signal.SIGTERM, lambda signum, frame: scheduler.shutdown(wait=True))
    log.info("scheduler running alone (%s); Ctrl-C stops it", settings.timezone)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    return 0
