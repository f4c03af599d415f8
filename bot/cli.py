"""`partnerbot` command line (SPEC §4)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from core.redact import setup_logging
from core.settings import Settings, SettingsError, get_settings

log = logging.getLogger("partnerbot")
DEMO_DATABASE = "sqlite:///partnerbot-demo.db"
NO_TOKENS = """\
No Slack tokens are set, so partnerbot is opening its offline console on a demo
workspace (partnerbot-demo.db) instead of connecting to Slack. To run it for
real: create the app at https://api.slack.com/apps -> Create New App -> From an
app manifest, paste manifest.yml, install it to your workspace, then copy the
Bot User OAuth Token (xoxb-...) into SLACK_BOT_TOKEN and create an app-level
token with the connections:write scope (Basic Information -> App-Level Tokens)
for SLACK_APP_TOKEN; put both in .env and run `make run` again.
"""


class CommandError(Exception):
    """A CLI failure with a message for the terminal (exit code 1, or `code`)."""

    def __init__(self, message: str, *, code: int = 1):
        super().__init__(message)
        self.code = code


def _prepare(settings: Settings, url: str | None = None) -> None:
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from storage import db

    url = url or settings.database_url
    try:
        db.configure(url)
        db.upgrade()
        _score_unscored(settings)
    except (DBAPIError, ArgumentError) as error:
        raise CommandError(database_problem(url, error), code=2) from None
    except ModuleNotFoundError as error:  # e.g. PostgreSQL without its driver installed
        raise CommandError(database_problem(url, f"its driver {error.name} is not installed"), code=2) from None


def _score_unscored(settings: Settings) -> None:
    """Health settings for this process, and a first stored score for partners that
    have none (those that existed before migration 0011): the migration cannot run
    the health function itself."""
    from datetime import datetime, timezone

    from storage import health
    from storage.db import unit_of_work

    health.configure(settings)
    with unit_of_work() as session:
        health.refresh(session=session, now=datetime.now(timezone.utc), missing_only=True)


def database_problem(url: str, error: Exception | str) -> str:
    """One line naming the database (password hidden) and what is wrong with it."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # an unparsable URL: name the setting, not its text
        return "setting DATABASE_URL: not a database URL like sqlite:///partnerbot.db or postgresql+psycopg://user:pass@host/db"
    shown = parsed.render_as_string(hide_password=True)
    reason = (str(getattr(error, "orig", None) or error).strip() or type(error).__name__).splitlines()[0]
    if parsed.password:
        reason = reason.replace(parsed.password, "***")
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).resolve().parent
        if not folder.is_dir():
            reason = f"the directory {folder} does not exist"
        elif not os.access(folder, os.W_OK):
            reason = f"no permission to write in {folder} ({reason})"
    return f"cannot use the database {shown}: {reason}; check DATABASE_URL"


def _require(settings: Settings, *names: str) -> None:
    for name in names:
        if not settings.secret(name):
            alias = Settings.model_fields[name].alias
            raise SettingsError(f"setting {alias}: required for this command (see README, 'Settings')")


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.secret("slack_bot_token") or not settings.secret("slack_app_token"):
        print(NO_TOKENS, file=sys.stderr)
        return _demo_console(settings)
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    _prepare(settings)
    setup_logging(settings)
    app = _connect(settings)
    scheduler = None if args.no_scheduler else _start_scheduler(settings)
    handler = SocketModeHandler(app, app_token=settings.secret("slack_app_token"), web_client=app.client)
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    log.info("partnerbot connected in Socket Mode; Ctrl-C stops it")
    try:
        handler.start()
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

    try:
        return build_app(settings)
    except BoltError as error:
        reason = "invalid_auth" if "invalid_auth" in str(error) else str(error).splitlines()[0][:120]
        raise CommandError(f"Slack refused SLACK_BOT_TOKEN ({reason}); copy the Bot User OAuth Token again") from None
    except OSError as error:
        reason = getattr(error, "reason", None) or error
        raise CommandError(f"cannot reach Slack at {settings.slack_api_url} ({reason}); check the network or SLACK_API_URL") from None


def _job_slack(settings: Settings):
    from bot.app import web_client
    from bot.slack import JobSlack

    return JobSlack(web_client(settings), settings.zone)


def _start_scheduler(settings: Settings):
    from core import outbound
    from bot import scheduler as scheduling

    outbound.validate(settings)
    slack = _job_slack(settings)
    scheduler = scheduling.build(settings, slack)
    scheduler.start()
    threading.Thread(target=scheduling.catch_up, args=(settings, slack), name="catch-up", daemon=True).start()
    log.info("scheduler started (%s)", settings.timezone)
    return scheduler


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    _require(settings, "slack_bot_token", "slack_signing_secret")
    from bot.web import make_server

    _prepare(settings)
    setup_logging(settings)
    if args.workers > 1:
        _connect(settings)  # fail fast, in one line, before forking
        return _serve_workers(args, settings)
    app = _connect(settings)
    server = make_server(app, host=args.host, port=args.port or settings.port)
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
    _require(settings, "slack_bot_token")
    from core import outbound
    from bot import scheduler as scheduling

    outbound.validate(settings)
    _prepare(settings)
    setup_logging(settings)
    slack = _job_slack(settings)
    scheduling.catch_up(settings, slack)
    scheduler = scheduling.build(settings, slack, blocking=True)
    signal.signal(signal.SIGTERM, lambda signum, frame: scheduler.shutdown(wait=True))
    log.info("scheduler running alone (%s); Ctrl-C stops it", settings.timezone)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    return 0


def cmd_jobs_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.scheduler import next_runs

    print(f"{'job':<22}{'schedule':<28}next run ({settings.timezone})")
    for job, when in next_runs(settings):
        print(f"{job.name:<22}{job.schedule:<28}{when.astimezone(settings.zone):%Y-%m-%d %H:%M %Z}" if when else "")
    return 0


def cmd_jobs_run(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime, timezone

    from jobs.runner import dry_run, run_job, spec

    try:
        spec(settings, args.name)
    except KeyError:
        from jobs.runner import specs

        raise CommandError(f"no job {args.name!r}; jobs: {', '.join(j.name for j in specs(settings))}") from None
    if args.at:
        try:
            now = datetime.fromisoformat(args.at)
        except ValueError:
            raise CommandError(f"--at {args.at!r} is not ISO-8601, e.g. 2026-11-30T09:00 or 2026-11-30T09:00+01:00") from None
        now = (now if now.tzinfo else now.replace(tzinfo=settings.zone)).astimezone(timezone.utc)
    else:
        now = datetime.now(timezone.utc)
    _prepare(settings)
    if args.dry_run:
        dry_run(args.name, settings=settings, now=now, out=sys.stdout)
        return 0
    _require(settings, "slack_bot_token")
    setup_logging(settings)
    result = run_job(args.name, settings=settings, slack=_job_slack(settings), now=now)
    print(f"{args.name}: sent {result.sent}, already sent {result.skipped}, failed {result.failed}")
    return 1 if result.failed else 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import date

    from core import outbound
    from jobs.crm import sync as crm_sync

    if not settings.crm:
        raise SettingsError("setting PARTNERBOT_CRM: set it to hubspot or json to sync KPIs from a CRM")
    outbound.validate(settings, webhooks=False)
    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            raise CommandError(f"--since {args.since!r} is not a date like 2026-01-01") from None
    _prepare(settings)
    setup_logging(settings, logging.WARNING)
    try:
        report = crm_sync.sync(settings=settings, dry_run=args.dry_run, overwrite=args.overwrite, since=since)
    except crm_sync.SyncError as error:
        raise CommandError(f"CRM sync failed, nothing was written: {error}") from None
    print(report.render())
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    _prepare(settings)
    print("database is up to date")
    return 0


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import console

    _prepare(settings)
    return console(settings, user_id=args.user)


def _demo_console(settings: Settings) -> int:
    from bot.console import DEMO_USER, console
    from storage import demo
    from storage.db import unit_of_work

    _prepare(settings, DEMO_DATABASE)
    with unit_of_work() as session:
        if demo.is_empty(session=session):
            demo.seed(session=session, partners=12, seed=1)
    # In the demo you are an admin, and the three default teams have channels.
    demo_settings = settings.model_copy(
        update={"admins": [DEMO_USER], "routes": settings.routes or dict(demo.DEMO_ROUTES)}
    )
    return console(demo_settings, user_id=DEMO_USER)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from bot.progress import progress_bar
    from views.text import plural
    from storage import demo
    from storage.db import unit_of_work

    if args.partners < 1:
        raise CommandError("--partners must be at least 1")
    _prepare(settings)
    started = time.perf_counter()
    with unit_of_work() as session:
        if not demo.is_empty(session=session):
            raise CommandError("the database already has partners; `partnerbot demo` only seeds an empty one")
        counts = demo.seed(session=session, partners=args.partners, seed=args.seed, on_progress=progress_bar("seeding"))
    print(
        f"seeded {plural(counts['partners'], 'partner')}, {plural(counts['interactions'], 'interaction')} and "
        f"{plural(counts['deals'], 'registered deal')} in {time.perf_counter() - started:.1f} s"
    )
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.transfer import ImportError_, import_partners
    from views.text import plural

    _prepare(settings)
    try:
        created, updated = import_partners(Path(args.file), update_existing=args.update, allow_similar=args.allow_similar)
    except ImportError_ as error:
        raise CommandError(str(error)) from None
    print(f"imported {plural(created, 'partner')}" + (f", updated {updated:,}" if args.update else ""))
    return 0


def _writable(path: Path) -> None:
    """Refuse a path export cannot write, before the export starts."""
    if path.is_dir():
        raise CommandError(f"cannot export to {path}: it is a directory; name a file", code=2)
    folder = path.resolve().parent
    if not folder.is_dir():
        raise CommandError(f"cannot export to {path}: the directory {folder} does not exist", code=2)
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CommandError(f"cannot export to {path}: no permission to write there", code=2)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    import tempfile

    from bot.transfer import export
    from views.text import plural

    if args.file is not None:
        _writable(Path(args.file))
    _prepare(settings)
    if args.file is None:
        try:
            export(args.what, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as error:  # a full disk behind a redirect, and the like
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit-time flush would fail again
            raise CommandError(f"cannot write the export to standard output: {error.strerror or error}", code=2) from None
        return 0
    path = Path(args.file)
    # Written beside the target and renamed when complete: a failed export
    # leaves no partial file (and never half-overwrites an older export).
    try:
        handle = tempfile.NamedTemporaryFile("w", newline="", encoding="utf-8", dir=path.resolve().parent,
                                             prefix=f".{path.name}.", suffix=".part", delete=False)
    except OSError as error:
        raise CommandError(f"cannot export to {path}: {error.strerror}", code=2) from None
    try:
        with handle:
            count = export(args.what, handle)
        os.chmod(handle.name, 0o644 & ~_umask())
        os.replace(handle.name, path)
    except BaseException as error:
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, BrokenPipeError):
            raise CommandError(f"cannot export to {path}: {error.strerror or error}", code=2) from None
        raise
    print(f"exported {plural(count, args.what.removesuffix('s'))} to {path}", file=sys.stderr)
    return 0


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def cmd_manifest(args: argparse.Namespace, settings: Settings | None) -> int:
    from bot.manifest import dump_manifest, http_manifest, load_manifest

    try:
        manifest = http_manifest(args.http) if args.http is not None else load_manifest()
    except ValueError as error:
        raise CommandError(str(error), code=2) from None
    print(dump_manifest(manifest), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="partnerbot", description="Slack chat-ops bot for partnership teams.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="Socket Mode bot + scheduler (offline console on demo data without tokens)")
    run.add_argument("--no-scheduler", action="store_true", help="do not run scheduled jobs in this process")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="HTTP mode: POST /slack/events, GET /healthz")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run scheduled jobs in this process")
    serve.add_argument("--workers", type=int, default=1, help="web worker processes (default 1; the scheduler still runs once)")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("scheduler", help="the scheduled jobs alone (for split web/jobs deployments)").set_defaults(func=cmd_scheduler)

    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    jobs_sub.add_parser("list", help="jobs, schedules, next run times").set_defaults(func=cmd_jobs_list)
    jobs_run = jobs_sub.add_parser("run", help="run one job once now (or as of --at)")
    jobs_run.add_argument("name")
    jobs_run.add_argument("--at", help="evaluate as of this ISO-8601 time (team time zone if none given)")
    jobs_run.add_argument("--dry-run", action="store_true", help="print the messages instead of posting (no ledger)")
    jobs_run.set_defaults(func=cmd_jobs_run)

    sync = sub.add_parser("sync", help="pull KPI actuals from the configured CRM")
    sync_sub = sync.add_subparsers(dest="sync_what", required=True, metavar="WHAT")
    sync_crm = sync_sub.add_parser("crm", help="closed-won deals → revenue and deals KPIs")
    sync_crm.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    sync_crm.add_argument("--overwrite", action="store_true", help="also delete manual values of the synced months")
    sync_crm.add_argument("--since", help="sync from this date (default: the previous fiscal quarter)")
    sync_crm.set_defaults(func=cmd_sync)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db)

    console = sub.add_parser("console", help="offline REPL: type /partner lines")
    console.add_argument("--user", default="U0CONSOLE", help="Slack user ID to act as (default U0CONSOLE)")
    console.set_defaults(func=cmd_console)

    demo = sub.add_parser("demo", help="seed a demo workspace into DATABASE_URL")
    demo.add_argument("--partners", type=int, default=12)
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=cmd_demo)

    imp = sub.add_parser("import", help="bulk import from CSV")
    imp_sub = imp.add_subparsers(dest="what", required=True, metavar="WHAT")
    imp_partners = imp_sub.add_parser("partners", help="CSV header: name,type,tier,owner,stage")
    imp_partners.add_argument("file")
    imp_partners.add_argument("--update", action="store_true",
                              help="update partners whose name exists (type, tier, owner, stage) instead of refusing them")
    imp_partners.add_argument("--allow-similar", action="store_true",
                              help="import names that start the same as another partner's (like Acme and Acme Labs)")
    imp_partners.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="bulk export to CSV (text that looks like a formula is prefixed with ')")
    exp.add_argument("what", choices=["partners", "interactions", "kpis", "deals", "requests"])
    exp.add_argument("file", nargs="?", help="default: standard output")
    exp.set_defaults(func=cmd_export)

    manifest = sub.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--http", metavar="URL",
                          help="public https base URL (or the full …/slack/events URL): print the HTTP-mode manifest")
    manifest.set_defaults(func=cmd_manifest, needs_settings=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from sqlalchemy.exc import OperationalError

    args = parser().parse_args(argv)
    try:
        settings = get_settings() if getattr(args, "needs_settings", True) else None
        if settings is not None:
            setup_logging(settings, logging.WARNING)  # every command; long-running ones raise the level
        code = args.func(args, settings)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except SettingsError as error:
        print(f"partnerbot: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"partnerbot: {error}", file=sys.stderr)
        return error.code
    except OperationalError as error:  # the database went away after start-up
        print(f"partnerbot: {database_problem(_database_url(), error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `partnerbot export … | head`: the reader left. Python's documented
        # recipe: point stdout at devnull so the exit-time flush stays quiet, and
        # exit as a process killed by SIGPIPE would (128 + 13).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _database_url() -> str:
    try:
        return get_settings().database_url
    except SettingsError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
