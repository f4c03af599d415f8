"""`/partner ask <team> <partner> <request…>`: route a partner's need to a team channel."""

from __future__ import annotations

from datetime import date

from views.messages import confirmation
from views.requests import AskForm, request_message, request_not_posted
from views.text import escape
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, typed_text
from commands.refs import take_partner
from commands.teams import routed_channel, routing, team_name
from storage import ledger, partners, requests, webhooks
from storage.db import unit_of_work
from storage.models import HelpRequest, Partner

USAGE = "ask <legal|product|finance|team> <partner> <request>"
DESCRIPTION = "send a partner's need to the team's channel, where someone claims and resolves it"
MAX_REQUEST = 2500


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    if index >= len(cmd.tokens):
        raise UserError("Which team? `legal`, `product`, `finance` or another routed team.", usage=USAGE)
    team = team_name(cmd.tokens[index], usage=USAGE)
    channel = routed_channel(ctx, team, usage=USAGE)
    partner, index = take_partner(cmd, index + 1, session=ctx.session, usage=USAGE)
    text = cmd.rest(index)
    return create(ctx, team=team, channel=channel, partner=partner, text=text, due_on=None)


def from_form(ctx: Context, form: AskForm, *, view_id: str | None) -> Reply:
    """The "Ask a team" form (global shortcut); a form Slack delivers twice makes one request (keyed by the view)."""
    if form.due and date.fromisoformat(form.due) < ctx.now.astimezone(ctx.settings.zone).date():
        raise UserError("The due date is in the past.")
    partner = partners.get(session=ctx.session, partner_id=int(form.partner_id)) if form.partner_id.isdigit() else None
    if partner is None:
        raise UserError("Pick a partner from the list.")
    channel = routing(ctx).get(form.team)
    if not channel:
        raise UserError(f"No channel is set for {form.team or 'that team'}.")
    return create(ctx, team=form.team, channel=channel, partner=partner, text=typed_text(form.text), due_on=form.due,
                  view_id=view_id)


def create(ctx: Context, *, team: str, channel: str, partner: Partner, text: str, due_on: str | None,
           view_id: str | None = None) -> Reply:
    if not text:
        raise UserError(f"Say what {escape(partner.name)} needs from {team}.", usage=USAGE)
    if len(text) > MAX_REQUEST:
        raise UserError(f"Keep a request under {MAX_REQUEST:,} characters.", usage=USAGE)
    if view_id and (earlier := requests.by_view(session=ctx.session, view_id=view_id)) is not None:
        # The same form submitted twice (a slow Slack, a second click on Send): one request.
        return Reply(text=f"Request #{earlier.id} was already sent.", blocks=confirmation(
            f"Your {earlier.team} request *#{earlier.id}* for *{escape(partner.name)}* was already sent."))
    request = requests.create(
        session=ctx.session, partner_id=partner.id, team=team, text=text, requester_id=ctx.caller.user_id,
        origin_channel_id=ctx.caller.channel_id, due_on=due_on, now=ctx.now, view_id=view_id,
    )
    requests.log_step(session=ctx.session, request=request, summary=f"Asked {team}: {text}", author_id=ctx.caller.user_id, now=ctx.now)
    webhooks.emit(session=ctx.session, hooks=ctx.settings.webhooks, event="request.created", partner=partner,
                  subject=webhooks.request_data(request), now=ctx.now)
    # Claimed with the request, in one transaction: if this process dies before the
    # post, the retry job finds the claim and posts it (effectively once).
    message_text, blocks = request_message(request, partner, now=ctx.now)
    ledger.claim(session=ctx.session, **requests.post_key(request.id), target=channel,
                 payload=ledger.message_payload(message_text, blocks), now=ctx.now)
    request_id = request.id
    # The request is committed before Slack is called: a refused post never loses it.
    return Reply(text="Sending…", after=lambda: post(ctx, request_id, channel))


def post(ctx: Context, request_id: int, channel: str, *, again: bool = False) -> Reply:
    """Post (or, with `again`, re-post) a request to its team channel and tell the requester where it is."""
    # Never hold a database transaction across a Slack call: a slow Slack would
    # keep SQLite's write lock and make every other writer wait.
    with unit_of_work() as session:
        request = requests.get(session=session, request_id=request_id)
        if request is None:
            raise UserError("That request no longer exists.")
        text, blocks = request_message(request, request.partner, now=ctx.now)
        if again and not ledger.retake(session=session, **requests.post_key(request_id), target=channel,
                                       payload=ledger.message_payload(text, blocks), now=ctx.now):
            if ledger.status_of(session=session, **requests.post_key(request_id)) is None:
                ledger.claim(session=session, **requests.post_key(request_id), target=channel,
                             payload=ledger.message_payload(text, blocks), now=ctx.now)
            else:
                return Reply(text="Already on its way.", blocks=confirmation(
                    f"Request *#{request_id}* is being posted right now; you'll see it in <#{channel}> shortly."))
    posted = ctx.slack.post(channel, text, blocks)
    with unit_of_work() as session:
        ledger.mark(session=session, **requests.post_key(request_id), ok=posted.ok, channel=posted.channel,
                    ts=posted.ts, error=posted.error, now=ctx.now)
        requests.record_post(session=session, request_id=request_id, channel_id=channel, ts=posted.ts, error=posted.error)
    if not posted.ok:
        return not_posted(request, channel, posted.error or "unknown_error")
    link = ctx.slack.permalink(channel, posted.ts or "")
    where = f"<{link}|in <#{channel}>>" if link else f"in <#{channel}>"
    return Reply(
        text=f"Request #{request_id} sent to {request.team}.",
        blocks=confirmation(
            f"Sent {request.team} request *#{request_id}* for *{escape(request.partner.name)}* {where}.",
            detail="You'll get a DM when someone claims it and when it is resolved.",
        ),
    )


def not_posted(request: HelpRequest, channel: str, error: str) -> Reply:
    text, blocks = request_not_posted(request, channel, error)
    return Reply(text=text, blocks=blocks)
