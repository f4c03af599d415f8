"""Buttons and modals on a request: Claim, Resolve, Add note, Post again."""

from __future__ import annotations

from views.messages import confirmation
from views.requests import request_message, request_note, requester_dm
from views.text import user
from commands import ask
from commands.context import Context, Reply
from commands.errors import UserError
from commands.teams import routing
from storage import requests, webhooks
from storage.db import unit_of_work
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
    return Reply(text="", after=lambda: announce(ctx, rid, "claimed"))


def resolve(ctx: Context, rid: int, note: str | None) -> Reply | None:
    request = _load(ctx, rid)
    if not requests.resolve(session=ctx.session, request_id=rid, user_id=ctx.caller.user_id, note=note or None, now=ctx.now):
        ctx.session.refresh(request)
        raise UserError(f"Request #{rid} was already resolved by {user(request.resolved_by or '')}.")
    summary = f"{request.team.capitalize()} request #{rid} resolved" + (f": {note}" if note else "")
    requests.log_step(session=ctx.session, request=request, summary=summary, author_id=ctx.caller.user_id, now=ctx.now)
    _emit(ctx, rid, "request.resolved")
    return Reply(text="", after=lambda: announce(ctx, rid, "resolved"))


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
    requests.log_step(session=ctx.session, request=request, summary=f"Note on {request.team} request #{rid}: {note}", author_id=ctx.caller.user_id, now=ctx.now)

    def post_note() -> Reply:
        if request.channel_id and request.message_ts:
            ctx.slack.post(request.channel_id, *request_note(ctx.caller.user_id, note), thread_ts=request.message_ts)
        if request.requester_id != ctx.caller.user_id:
            _dm(ctx, request, "note")
        return Reply(text="")

    return Reply(text="", after=post_note)


def repost(ctx: Context, rid: int) -> Reply:
    request = _load(ctx, rid)
    if request.message_ts:
        return Reply(text="Already posted.", blocks=confirmation(f"Request *#{rid}* is already posted in <#{request.channel_id}>."))
    if request.requester_id != ctx.caller.user_id:
        raise UserError("Only the person who asked can post this request again.")
    channel = routing(ctx).get(request.team)
    if not channel:
        raise UserError(f"No channel is set for {request.team} any more; ask an admin to `/partner route {request.team} #channel`.")
    return Reply(text="Posting…", after=lambda: ask.post(ctx, rid, channel, again=True))


def announce(ctx: Context, rid: int, event: str) -> Reply:
    """After a transition: update the channel message in place and DM the requester."""
    with unit_of_work(read_only=True) as session:
        request = requests.get(session=session, request_id=rid)
    assert request is not None
    if request.channel_id and request.message_ts:
        text, blocks = request_message(request, request.partner, now=ctx.now)
        ctx.slack.update(request.channel_id, request.message_ts, text, blocks)
    actor = request.claimed_by if event == "claimed" else request.resolved_by
    if request.requester_id != actor:
        _dm(ctx, request, event)
    return Reply(text="")


def _dm(ctx: Context, request: HelpRequest, event: str) -> None:
    link = ctx.slack.permalink(request.channel_id, request.message_ts) if request.channel_id and request.message_ts else None
    text, blocks = requester_dm(request, request.partner, event=event, link=link, now=ctx.now)
    ctx.slack.post(request.requester_id, text, blocks)
