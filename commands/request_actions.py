"""Buttons and modals on a request: Claim, Resolve, Add note, Post again."""

from __future__ import annotations

from views.messages import confirmation
from views.requests import OPEN_REQUEST, request_message, request_note, requester_dm
from views.text import user
from commands import ask, desk
from commands.context import Context, Reply
from commands.errors import UserError
from commands.permissions import require_owner_or_admin
from commands.teams import routing
from core.messenger import Notification
from storage import requests, webhooks
from storage.models import HelpRequest, RequestStatus

GONE = "That request no longer exists (it may have been deleted with its partner). Nothing was changed."


def request_id(value: str) -> int:
    if not value.isdigit():
        raise UserError(GONE)
    return int(value)


def _load(ctx: Context, rid: int) -> HelpRequest:
    request = requests.get(session=ctx.session, request_id=rid)
    if request is None:
        raise UserError(GONE)
    return request


def claim(ctx: Context, rid: int) -> Reply | None:
    request = _load(ctx, rid)
    if not requests.claim(session=ctx.session, request_id=rid, user_id=ctx.caller.user_id, now=ctx.now):
        ctx.session.refresh(request)
        if request.status == RequestStatus.RESOLVED:
            raise UserError(f"Request #{rid} is already resolved by {user(request.resolved_by or '')}.")
        if request.claimed_by == ctx.caller.user_id:
            return Reply(text="You already claimed it.", blocks=confirmation(f"You already claimed request *#{rid}*."))
        raise UserError(f"Request #{rid} is already claimed by {user(request.claimed_by or '')}.")
    requests.log_step(session=ctx.session, request=request, summary=f"{request.team.capitalize()} request #{rid} claimed", author_id=ctx.caller.user_id, now=ctx.now)
    _emit(ctx, rid, "request.claimed")
    return announce(ctx, request, "claimed")


def resolve(ctx: Context, rid: int, note: str | None, *, to_partner: bool = False) -> Reply | None:
    """Resolve a request; `to_partner`: the resolver chose to send the resolution text to
    the partner who asked from its channel (off by default)."""
    request = _load(ctx, rid)
    if not requests.resolve(session=ctx.session, request_id=rid, user_id=ctx.caller.user_id, note=note or None, now=ctx.now):
        ctx.session.refresh(request)
        raise UserError(f"Request #{rid} was already resolved by {user(request.resolved_by or '')}.")
    summary = f"{request.team.capitalize()} request #{rid} resolved" + (f": {note}" if note else "")
    requests.log_step(session=ctx.session, request=request, summary=summary, author_id=ctx.caller.user_id, now=ctx.now)
    _emit(ctx, rid, "request.resolved")
    return announce(ctx, request, "resolved", to_partner=to_partner)


def _emit(ctx: Context, rid: int, event: str) -> None:
    request = requests.get(session=ctx.session, request_id=rid)
    assert request is not None
    ctx.session.refresh(request)
    webhooks.emit(session=ctx.session, hooks=ctx.settings.webhooks, event=event, partner=request.partner,
                  subject=webhooks.request_data(request), now=ctx.now)


def add_note(ctx: Context, rid: int, note: str) -> Reply | None:
    note = note.strip()
    if not note:
        raise UserError("A note needs some text.")
    request = _load(ctx, rid)
    step = requests.log_step(session=ctx.session, request=request, summary=f"Note on {request.team} request #{rid}: {note}",
                             author_id=ctx.caller.user_id, now=ctx.now)
    outbox = []
    if request.channel_id and request.message_ts:
        text, blocks = request_note(ctx.caller.user_id, note)
        outbox.append(Notification("request-note", f"request:{rid}", f"note:{step.id}", request.channel_id, text, blocks,
                                   thread_ts=request.message_ts))
    return _tell_requester(ctx, request, f"note:{step.id}", outbox, event="note", actor=ctx.caller.user_id)


def repost(ctx: Context, rid: int) -> Reply:
    request = _load(ctx, rid)
    if request.message_ts:
        return Reply(text="Already posted.", blocks=confirmation(f"Request *#{rid}* is already posted in <#{request.channel_id}>."))
    if request.from_partner:  # asked from a partner channel: the partner's owner (or an admin) posts it again
        require_owner_or_admin(request.partner, ctx, "post this partner's request again")
    elif request.requester_id != ctx.caller.user_id:
        raise UserError("Only the person who asked can post this request again.")
    channel = routing(ctx).get(request.team)
    if not channel:
        raise UserError(f"No channel is set for {request.team} any more; ask an admin to `/partner route {request.team} #channel`.")
    return ask.send(request, channel, now=ctx.now, again=True)


def announce(ctx: Context, request: HelpRequest, event: str, *, to_partner: bool = False) -> Reply:
    """After a transition (the request refreshed by _emit): the channel message updated in
    place, and the requester told — by DM, or for a partner, in the thread it asked in."""
    outbox = []
    if request.channel_id and request.message_ts:
        text, blocks = request_message(request, request.partner, now=ctx.now)
        outbox.append(Notification("request-update", f"request:{request.id}", event, request.channel_id, text, blocks,
                                   update_ts=request.message_ts))
    if request.from_partner:
        told = desk.request_update(ctx, request, event, share_resolution=to_partner)
        return Reply(text="", outbox=[*outbox, told] if told else outbox)
    actor = request.claimed_by if event == "claimed" else request.resolved_by
    return _tell_requester(ctx, request, event, outbox, event=event, actor=actor)


def _tell_requester(ctx: Context, request: HelpRequest, period: str, outbox: list[Notification], *, event: str,
                    actor: str | None) -> Reply:
    """Send `outbox` to the request's channel and DM the requester (unless they did it
    themselves), linking the request's message; all claimed with the change."""
    # A partner who asked from its channel hears of claim and resolve in its thread (announce), of notes never.
    if request.requester_id != actor and not request.from_partner:
        text, blocks = requester_dm(request, request.partner, event=event, link=None, now=ctx.now)
        posted_at = (request.channel_id, request.message_ts, OPEN_REQUEST) if request.channel_id and request.message_ts else None
        outbox = [*outbox, Notification("request-dm", f"request:{request.id}", period, request.requester_id, text, blocks,
                                        link_to=posted_at)]
    return Reply(text="", outbox=outbox)
