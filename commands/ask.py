"""`/partner ask <team> <partner> <request…>`: route a partner's need to a team channel."""

from __future__ import annotations

from datetime import date, datetime

from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, typed_text
from commands.refs import take_partner
from commands.teams import routed_channel, routing, team_name
from core.messenger import NOT_OURS, Notification, Posted
from storage import partners, requests, webhooks
from storage.models import HelpRequest, Partner
from views.messages import confirmation
from views.requests import AskForm, request_message, request_not_posted
from views.text import escape

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
    # Claimed with the request, in one transaction (bot/dispatch.py): if this process
    # dies before the post, the retry job finds the claim and posts it (effectively once).
    return send(request, channel, now=ctx.now)


def send(request: HelpRequest, channel: str, *, now: datetime, again: bool = False) -> Reply:
    """The request's message for its team channel, and what the requester is told once
    it is there — or why not, with **Post again**. `again` takes a failed post's ledger row."""
    text, blocks = request_message(request, request.partner, now=now)
    message = Notification(**requests.post_key(request.id), target=channel, text=text, blocks=blocks, link=True,
                           retake=again)
    rid, team, partner_name = request.id, request.team, request.partner.name

    def told(outcomes: list[Posted]) -> Reply:
        posted = outcomes[0]
        if posted.error == NOT_OURS:
            return Reply(text="Already on its way.", blocks=confirmation(
                f"Request *#{rid}* is being posted right now; you'll see it in <#{channel}> shortly."))
        if not posted.ok:
            return not_posted(request, channel, posted.error or "unknown_error")
        where = f"<{posted.link}|in <#{channel}>>" if posted.link else f"in <#{channel}>"
        return Reply(text=f"Request #{rid} sent to {team}.", blocks=confirmation(
            f"Sent {team} request *#{rid}* for *{escape(partner_name)}* {where}.",
            detail="You'll get a DM when someone claims it and when it is resolved."))

    return Reply(text="Sending…", outbox=[message], then=told)


def not_posted(request: HelpRequest, channel: str, error: str) -> Reply:
    text, blocks = request_not_posted(request, channel, error)
    return Reply(text=text, blocks=blocks)
