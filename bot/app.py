"""The Bolt app: build it, wire the listeners (bot/listeners/, one module per
Slack surface), and answer a listener's crash."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot import listeners
from bot.events import skip_seen_events
from bot.verify import Verification, may_respond
from core.settings import Settings
from views import text
from views.messages import error_blocks

FRIENDLY_FAILURE = "Something went wrong on our side and nothing was changed. Please try again in a minute."


def web_client(settings: Settings) -> WebClient:
    """The one Web API client: base URL from settings, rate limits retried after Retry-After."""
    client = WebClient(token=settings.secret("slack_bot_token"), base_url=settings.slack_api_url, timeout=10)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def build_app(settings: Settings, *, verify_token: bool = True) -> App:
    signing_secret = settings.secret("slack_signing_secret") or ""
    verification = Verification(signing_secret, settings.slack_api_url)
    app = App(
        client=web_client(settings),
        signing_secret=signing_secret,
        token_verification_enabled=verify_token,
        # One signature check (bot/verify.py), in Bolt's own place before authorization;
        # Bolt's logs the whole body of every request it refuses.
        request_verification_enabled=False,
        before_authorize=verification,
        listener_executor=ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="listener"),
    )
    verification.attach(app)  # the HTTP door checks with it before a body is parsed
    # ~2.5 s of CPU once, here in start-up, never inside a reply's 3-second ack. Not in a
    # background thread: an import racing the listeners' own imports can hand one of them a
    # half-initialised module.
    text.warm_up()
    app.middleware(skip_seen_events)
    from storage import health

    health.configure(settings)  # stored health follows writes by these settings (stall days, QBR interval, quarters)
    deps = listeners.Deps.build(app, settings)
    if verify_token:
        # Who "we" are (auth.test), learnt now: everyone else's team is compared with it. If
        # Slack does not answer, it is asked again at the first decision (unknown means no).
        deps.slack.own_team()
    listeners.register(app, deps)
    app.error(failure_handler(settings))
    return app


def failure_handler(settings: Settings) -> Callable[..., None]:
    """What a listener's crash looks like to the person: one friendly line, and the cause in the log."""

    def on_error(error: Exception, context: BoltContext, respond: Respond | None, logger: logging.Logger) -> None:
        logger.exception("listener failed: %s", type(error).__name__)
        # Never a reply to a request that was not verified, nor to a URL that is not Slack's.
        if respond is not None and may_respond(context, settings.slack_api_url):
            try:
                respond(response_type="ephemeral", replace_original=False, text=FRIENDLY_FAILURE, blocks=error_blocks(FRIENDLY_FAILURE))
            except Exception:  # telling the user failed too; the cause is logged above
                logger.warning("could not tell the user about the failure")

    return on_error
