"""The Bolt app: listeners are thin — ack, delegate, send."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from typing import Any

from pydantic import BaseModel
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.access import ACK_BUDGET, Gate
from bot.dispatch import run, run_command
from bot.events import skip_seen_events
from core.settings import Settings
from bot.slack import JobSlack
from bot.verify import Verification, may_respond
from views.ids import Action, Shortcut, View
from views.messages import error_blocks, notice_home, notice_modal
from views.partners import log_modal, partner_card, partner_modal
from views.text import section
from views.requests import ask_modal, note_modal, partner_options, resolve_modal
from commands import Caller, Reply, UserError, ask, deal, error_reply, request_actions, status
from commands import log as log_command
from commands.context import Context
from commands.parser import slack_to_text, typed_text
from commands.teams import routing
from storage import partners, requests
from storage.db import unit_of_work
from storage.names import name_key

log = logging.getLogger(__name__)
LISTENER_THREADS = 32
FRIENDLY_FAILURE = "Something went wrong on our side and nothing was changed. Please try again in a minute."
FORM_FAILED = "Slack did not open the form in time. Click the button again."
EXTERNAL = "This channel is shared with another organisation (or Slack couldn't confirm it isn't), so partnerbot doesn't post partner data in it."
NOT_SHARED = "Only a result can be shared into the channel; this was a message for you alone."


class LogSource(BaseModel):
    """private_metadata of the log modal: the message it was opened on, if any."""

    link: str | None = None
    author: str | None = None


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
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
    )
    verification.attach(app)  # the HTTP door checks with it before a body is parsed
    app.middleware(skip_seen_events)
    from storage import health

    health.configure(settings)  # stored health follows writes by these settings (stall days, QBR interval, quarters)
    register(app, settings)
    return app


def _caller(body: dict[str, Any]) -> Caller:
    """Who acted, from an interactivity payload (user, channel, team objects)."""
    return Caller(
        (body.get("user") or {}).get("id", ""),
        (body.get("channel") or {}).get("id"),
        (body.get("team") or {}).get("id"),
    )


def _send(respond: Respond, reply: Reply | None) -> None:
    """Answer the person who clicked; empty replies say nothing, and an answer
    that does not replace the clicked message never overwrites it."""
    if reply is not None and (reply.text or reply.blocks):
        payload = reply.payload()
        payload.setdefault("replace_original", False)
        respond(**payload)


def register(app: App, settings: Settings) -> None:
    slack = JobSlack(app.client, settings.zone)
    gate = Gate(settings, slack)

    def refused(why: str) -> Reply:
        return error_reply(UserError(why))

    def act(body: dict[str, Any], work, **kwargs: Any) -> Reply | None:
        caller = _caller(body)
        if why := gate.refusal(caller.user_id):
            return refused(why)
        return run(work, caller=caller, settings=settings, slack=slack, **kwargs)

    def submission(ack: Ack, body: dict[str, Any], work) -> Reply | None:
        """A form came back. Slack wants the answer within 3 seconds whatever the Web API
        does: access is decided within a budget (unknown means no), the database work is
        done, the form is acked — with the refusal shown on it, or closed — and only then
        does Slack get called. Returns the final reply, None when refused."""
        caller = _caller(body)
        if why := gate.refusal(caller.user_id, budget=ACK_BUDGET):
            ack(response_action="errors", errors={"text": why[:150]})
            return None
        reply = run(work, caller=caller, settings=settings, slack=slack, follow_up=False)
        if reply is not None and reply.error:
            ack(response_action="errors", errors={"text": reply.text[:150]})
            return None
        ack()
        return reply.after() if reply is not None and reply.after is not None else reply

    def partner_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        if why := gate.refusal(command.get("user_id")):
            respond(**refused(why).payload())
            return
        caller = Caller(command["user_id"], command.get("channel_id"), command.get("team_id"))
        reply = run_command(command.get("text") or "", caller=caller, settings=settings, slack=slack)
        respond(**reply.payload())

    def rerun(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        if why := gate.refusal(_caller(body).user_id):
            respond(**refused(why).payload(), replace_original=False)
            return
        reply = run_command(action.get("value", ""), caller=_caller(body), settings=settings, slack=slack)
        if action["action_id"] != Action.SHARE:
            respond(**reply.payload(), replace_original=True)
            return
        if reply.error:  # a refusal or a mistake is for the person who clicked alone
            respond(**reply.payload(), replace_original=False)
            return
        # Decided now, failing closed: unless Slack says the channel is internal, nothing is posted.
        channel = (body.get("channel") or {}).get("id") or ""
        if slack.shared_problem(channel) if channel else True:
            respond(response_type="ephemeral", replace_original=False, text=EXTERNAL)
            return
        # The shared copy loses its own buttons.
        shared = Reply(text=reply.text, blocks=[b for b in reply.blocks if b.get("type") != "actions"], ephemeral=False)
        respond(**shared.payload(), replace_original=False)

    def request_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        value, action_id = action.get("value", ""), action["action_id"]
        if action_id in (Action.REQUEST_NOTE, Action.REQUEST_RESOLVE):
            # views.open before anything else: the trigger_id expires 3 seconds after
            # the click. Who may submit is checked when the form comes back.
            rid = int(value) if value.isdigit() else 0
            modal = note_modal(rid) if action_id == Action.REQUEST_NOTE else resolve_modal(rid)
            try:
                client.views_open(trigger_id=body["trigger_id"], view=modal)
            except SlackApiError as error:
                log.warning("views.open failed: %s", error.response.get("error"))
                respond(response_type="ephemeral", replace_original=False, text=FORM_FAILED)
            return
        if why := gate.refusal(_caller(body).user_id):
            respond(**refused(why).payload(), replace_original=False)
            return
        flows = {
            Action.REQUEST_CLAIM: lambda ctx: request_actions.claim(ctx, request_actions.request_id(value)),
            Action.REQUEST_REPOST: lambda ctx: request_actions.repost(ctx, request_actions.request_id(value)),
        }
        _send(respond, act(body, flows[action_id]))

    def deal_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        value = action.get("value", "")
        approve = action["action_id"] == Action.DEAL_APPROVE
        _send(respond, act(body, lambda ctx: deal.decide(ctx, int(value) if value.isdigit() else 0, approve=approve)))

    def request_modal(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = typed_text(view["state"]["values"].get("text", {}).get("value", {}).get("value") or "")
        rid = view.get("private_metadata", "")

        def work(ctx: Context) -> Reply | None:
            number = request_actions.request_id(rid)
            if view["callback_id"] == View.REQUEST_NOTE:
                return request_actions.add_note(ctx, number, text)
            return request_actions.resolve(ctx, number, text or None)

        submission(ack, body, work)

    def ask_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        # views.open first (the trigger_id lives 3 seconds); the teams only after the access check.
        opened = client.views_open(trigger_id=body["trigger_id"], view=ask_modal())
        if why := gate.refusal(_caller(body).user_id):
            client.views_update(view_id=opened["view"]["id"], view=notice_modal("Ask a team", why))
            return
        with unit_of_work(read_only=True) as session:
            teams = list(requests.routes(session=session, defaults=settings.routes))
        client.views_update(view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=ask_modal(teams))

    def ask_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        team_value = values["team"]["value"]
        team = (team_value.get("selected_option") or {}).get("value") or team_value.get("value") or ""
        picked = (values["partner"][Action.PARTNER_PICK].get("selected_option") or {}).get("value", "")
        text = typed_text(values["text"]["value"].get("value") or "")
        due = values.get("due", {}).get("value", {}).get("selected_date")

        def work(ctx: Context) -> Reply:
            if due and date.fromisoformat(due) < ctx.now.astimezone(ctx.settings.zone).date():
                raise UserError("The due date is in the past.")
            partner = partners.get(session=ctx.session, partner_id=int(picked)) if picked.isdigit() else None
            if partner is None:
                raise UserError("Pick a partner from the list.")
            channel = routing(ctx).get(team)
            if not channel:
                raise UserError(f"No channel is set for {team or 'that team'}.")
            return ask.create(ctx, team=team, channel=channel, partner=partner, text=text, due_on=due,
                              view_id=view.get("id"))

        final = submission(ack, body, work)
        if final is not None and (final.text or final.blocks):
            slack.post(_caller(body).user_id, final.fallback_text(), final.blocks)

    def partner_suggestions(ack: Ack, body: dict[str, Any], payload: dict[str, Any]) -> None:
        if gate.refusal(_caller(body).user_id, budget=ACK_BUDGET):
            ack(options=[])
            return
        query = name_key(payload.get("value", ""))
        with unit_of_work(read_only=True) as session:
            found = [(p.id, p.name) for p in partners.by_prefix(session=session, prefix=query, limit=50, include_archived=False)] if query else []
        ack(options=partner_options(found))

    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        user_id = event.get("user") or ""
        if why := gate.refusal(user_id):
            if user_id:  # replace whatever Home showed before: nothing of the partner record stays
                client.views_publish(user_id=user_id, view=notice_home(why))
            return
        with unit_of_work(read_only=True) as session:
            view = status.home(session, user_id=user_id, now=datetime.now(timezone.utc), settings=settings)
        client.views_publish(user_id=user_id, view=view)

    def open_log_modal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        message = body.get("message") or {}
        channel, domain = (body.get("channel") or {}).get("id"), (body.get("team") or {}).get("domain")
        # The message's permalink, composed here: no API call before views.open or the form's ack.
        link = f"https://{domain}.slack.com/archives/{channel}/p{message['ts'].replace('.', '')}" if channel and domain and message.get("ts") else None
        meta = LogSource(link=link, author=message.get("user"))
        today = datetime.now(settings.zone).date().isoformat()
        opened = client.views_open(trigger_id=body["trigger_id"], view=log_modal(
            summary=slack_to_text(message.get("text", "")), metadata=meta.model_dump_json(exclude_none=True), today=today))
        # The form holds only what the clicker already sees; still, an outsider gets the refusal instead.
        if why := gate.refusal(_caller(body).user_id):
            client.views_update(view_id=opened["view"]["id"], view=notice_modal("Log to partner", why))

    def log_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        meta = LogSource.model_validate_json(view.get("private_metadata") or "{}")
        author = f" by <@{meta.author}>" if meta.author else ""
        source = f"(from a Slack message{author}: {meta.link})" if meta.link else None

        def work(ctx: Context) -> Reply:
            return log_command.log_from_modal(
                ctx,
                partner_id=(values["partner"][Action.PARTNER_PICK].get("selected_option") or {}).get("value", ""),
                kind=(values["kind"]["value"].get("selected_option") or {}).get("value", ""),
                summary=typed_text(values["text"]["value"].get("value") or ""),
                day=values["date"]["value"].get("selected_date"),
                dedupe_key=view.get("id") or body.get("trigger_id", ""),
                source=source,
            )

        submission(ack, body, work)

    def open_partner(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        opened = client.views_open(trigger_id=body["trigger_id"], view=partner_modal([section("Loading…")], "Partner"))
        if why := gate.refusal(_caller(body).user_id):
            client.views_update(view_id=opened["view"]["id"], view=partner_modal([section(why)], "Partner"))
            return
        now = datetime.now(timezone.utc)
        with unit_of_work(read_only=True) as session:
            partner = partners.get(session=session, partner_id=int(action.get("value") or 0))
            if partner is None:
                view = partner_modal([section("That partner no longer exists.")], "Partner")
            else:
                data = status.card_data(session, partner, now=now, settings=settings)
                view = partner_modal(partner_card(data, now=now, zone=settings.zone, currency=settings.currency), partner.name)
        client.views_update(view_id=opened["view"]["id"], view=view)

    def on_error(error: Exception, context: BoltContext, respond: Respond | None, logger: logging.Logger) -> None:
        logger.exception("listener failed: %s", type(error).__name__)
        # Never a reply to a request that was not verified, nor to a URL that is not Slack's.
        if respond is not None and may_respond(context, settings.slack_api_url):
            try:
                respond(response_type="ephemeral", replace_original=False, text=FRIENDLY_FAILURE, blocks=error_blocks(FRIENDLY_FAILURE))
            except Exception:  # telling the user failed too; the cause is logged above
                logger.warning("could not tell the user about the failure")

    app.command("/partner")(partner_command)
    app.action(Action.SHARE)(rerun)
    app.action(Action.PAGE)(rerun)
    for action_id in (Action.REQUEST_CLAIM, Action.REQUEST_RESOLVE, Action.REQUEST_NOTE, Action.REQUEST_REPOST):
        app.action(action_id)(request_button)
    app.action(Action.DEAL_APPROVE)(deal_button)
    app.action(Action.DEAL_REJECT)(deal_button)
    app.view(View.REQUEST_NOTE)(request_modal)
    app.view(View.REQUEST_RESOLVE)(request_modal)
    app.shortcut(Shortcut.ASK)(ask_shortcut)
    app.view(View.ASK)(ask_submitted)
    app.options(Action.PARTNER_PICK)(partner_suggestions)
    app.event("app_home_opened")(home_opened)
    app.shortcut(Shortcut.LOG)(open_log_modal)
    app.action(Action.HOME_LOG)(open_log_modal)
    app.action(Action.HOME_OPEN_PARTNER)(open_partner)
    app.view(View.LOG)(log_submitted)
    app.error(on_error)
