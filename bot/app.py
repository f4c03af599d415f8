"""The Bolt app: listeners are thin — ack, delegate, send."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.dispatch import run_command
from bot.settings import Settings
from bot.views.ids import Action
from bot.views.partners import home_view
from bot.views.messages import error_blocks
from commands import Caller
from storage import partners
from storage.db import unit_of_work
from storage.health import assess

log = logging.getLogger(__name__)
LISTENER_THREADS = 32
FRIENDLY_FAILURE = "Something went wrong on our side and nothing was changed. Please try again in a minute."


def web_client(settings: Settings) -> WebClient:
    """The one Web API client: base URL from settings, rate limits retried after Retry-After."""
    client = WebClient(token=settings.secret("slack_bot_token"), base_url=settings.slack_api_url, timeout=10)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def build_app(settings: Settings, *, verify_token: bool = True) -> App:
    app = App(
        client=web_client(settings),
        signing_secret=settings.secret("slack_signing_secret") or "",
        token_verification_enabled=verify_token,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
        # Bolt logs the full payload of unhandled requests; ours only names the type.
        raise_error_for_unhandled_request=False,
    )
    register(app, settings)
    return app


def allowed(settings: Settings, user_id: str | None) -> bool:
    return bool(user_id) and (not settings.users or user_id in settings.users)


def register(app: App, settings: Settings) -> None:
    def partner_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        if not allowed(settings, command.get("user_id")):
            ack(response_type="ephemeral", text="partnerbot is limited to a list of people, and you are not on it. Ask an admin.")
            return
        ack()
        caller = Caller(command["user_id"], command.get("channel_id"), command.get("team_id"))
        reply = run_command(command.get("text") or "", caller=caller, settings=settings)
        respond(**reply.payload())

    def rerun(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        if not allowed(settings, user_id):
            return
        caller = Caller(user_id, (body.get("channel") or {}).get("id"), (body.get("team") or {}).get("id"))
        reply = run_command(action.get("value", ""), caller=caller, settings=settings)
        if action["action_id"] == Action.SHARE:
            # Shared replies lose their own Share button.
            blocks = [b for b in reply.blocks if b.get("type") != "actions"]
            respond(text=reply.text, blocks=blocks, response_type="in_channel", replace_original=False)
        else:
            respond(**reply.payload(), replace_original=True)

    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home" or not allowed(settings, event.get("user")):
            return
        user_id = event["user"]
        now = datetime.now(timezone.utc)
        with unit_of_work() as session:
            rows = [
                (r.partner, r.last_touch, assess(stage=r.partner.stage, created_at=r.partner.created_at, last_touch=r.last_touch, now=now))
                for r in partners.rows(session=session, owner_id=user_id)
            ]
        client.views_publish(user_id=user_id, view=home_view(rows, user_id=user_id, now=now))

    def on_error(error: Exception, body: dict[str, Any], respond: Respond | None, logger: logging.Logger) -> BoltResponse | None:
        logger.exception("listener failed: %s", type(error).__name__)
        if respond is not None and body.get("response_url"):
            try:
                respond(response_type="ephemeral", replace_original=False, text=FRIENDLY_FAILURE, blocks=error_blocks(FRIENDLY_FAILURE))
            except Exception:  # the reply itself failed; already logged above
                logger.warning("could not tell the user about the failure")
        return None

    app.command("/partner")(partner_command)
    app.action(Action.SHARE)(rerun)
    app.action(Action.PAGE)(rerun)
    app.event("app_home_opened")(home_opened)
    app.error(on_error)
