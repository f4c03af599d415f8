"""The `/partner` slash command, and the Share and Next page buttons on its replies."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.access import ACK_BUDGET, NOT_LISTED
from bot.listeners import answers
from bot.listeners.actor import Actor
from commands import Reply, UserError, desk, error_reply, is_read_only
from views.ids import Action

# How long a read-only reply may take to ride the ack; Slack wants the ack within 3 seconds.
READY_BUDGET = 2.0
_ready = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ready")
EXTERNAL = "This channel is shared with another organisation (or Slack couldn't confirm it isn't), so partnerbot doesn't post partner data in it."


def partner_command(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext, actor: Actor) -> None:
    text = command.get("text") or ""
    if not context.get("response_url"):  # no reply URL of Slack's: the ack is the only way to answer
        actor.refusal(budget=ACK_BUDGET)
        ack(**answer(actor, text, budget=ACK_BUDGET).payload())
        return
    # A read-only reply that is ready at once rides the ack (SPEC §9): no response_url round
    # trip. "At once" is held to: one not ready within READY_BUDGET (a busy database, a big
    # report) is acked empty and sent through respond() when it is, never past Slack's 3 s.
    if is_read_only(text) and actor.known():
        return ready_or_later(ack, respond, _ready.submit(answer, actor, text, budget=ACK_BUDGET))
    ack()
    respond(**answer(actor, text).payload())


def ready_or_later(ack: Ack, respond: Respond, pending: Future[Reply]) -> None:
    """The reply in the ack if it is ready within READY_BUDGET; else an empty ack, and the reply once it is."""
    try:
        reply = pending.result(timeout=READY_BUDGET)
    except FutureTimeout:
        ack()
        respond(**pending.result().payload())
        return
    ack(**reply.payload())


def answer(actor: Actor, text: str, *, budget: float | None = None) -> Reply:
    """The reply to a typed line: the command for our people; for a person of another
    organisation, only what their partner desk offers (`help`, `scorecard`), in their
    partner channel, for their partner — anything else gets the one line that says nothing."""
    access = actor.access(budget=budget)
    if access.refusal is None or not (access.external or access.refusal == NOT_LISTED):
        return actor.command(text)  # served, or refused with its reason
    door = actor.at_partner_door(actor.caller.channel_id, budget=budget)
    if door.refusal is not None or door.member or door.partner_id is None:
        return error_reply(UserError(access.refusal))
    reply = actor.run_at_door(door, lambda ctx: desk.typed(ctx, door.partner_id or 0, text), read_only=True)
    assert reply is not None
    return reply


def next_page(ack: Ack, action: dict[str, Any], respond: Respond, actor: Actor) -> None:
    ack()
    if answers.refused_beside(respond, actor):
        return
    respond(**actor.command(action.get("value", "")).payload(), replace_original=True)


def share(ack: Ack, action: dict[str, Any], respond: Respond, actor: Actor) -> None:
    ack()
    if answers.refused_beside(respond, actor):
        return
    reply = actor.command(action.get("value", ""))
    if reply.error:  # a mistake is for the person who clicked alone
        answers.send(respond, reply)
        return
    # Decided now, failing closed: unless Slack says the channel is internal, nothing is posted.
    channel = actor.caller.channel_id
    if not channel or actor.deps.slack.shared_problem(channel, fresh=True):
        respond(response_type="ephemeral", replace_original=False, text=EXTERNAL)
        return
    # The shared copy loses its own buttons.
    shared = Reply(text=reply.text, blocks=[b for b in reply.blocks if b.get("type") != "actions"], ephemeral=False)
    respond(**shared.payload(), replace_original=False)


def register(app: App) -> None:
    app.command("/partner")(partner_command)
    app.action(Action.SHARE)(share)
    app.action(Action.PAGE)(next_page)
