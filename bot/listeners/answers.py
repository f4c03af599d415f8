"""The one mapping from a reply — a refusal or a UserError included — to each
surface's answer: an ephemeral reply beside what was clicked, errors on a form,
a notice in place of a modal or of App Home, no suggestions, or a DM."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.access import ACK_BUDGET, Access
from bot.dispatch import follow
from bot.listeners.actor import Actor
from commands import Context, Reply
from views.ids import Block
from views.messages import notice_home, notice_modal

FORM_ERROR = 150  # Slack shows at most this much of an error under a form input


def send(respond: Respond, reply: Reply | None) -> None:
    """Answer the person who clicked; empty replies say nothing, and an answer
    that does not replace the clicked message never overwrites it."""
    if reply is not None and (reply.text or reply.blocks):
        payload = reply.payload()
        payload.setdefault("replace_original", False)
        respond(**payload)


def refused_beside(respond: Respond, actor: Actor) -> bool:
    """A refused person is told why beside the message they clicked, which stays. True when refused."""
    refused = actor.refused()
    send(respond, refused)
    return refused is not None


def form(ack: Ack, actor: Actor, work: Callable[[Context], Reply | None]) -> Reply | None:
    """A form came back. Slack wants the answer within 3 seconds whatever the Web API
    does: access is decided within a budget (unknown means no), the database work is
    done, the form is acked — with the refusal or mistake shown on it, or closed — and
    only then is Slack called. Returns the final reply, None when refused."""
    if why := actor.refusal(budget=ACK_BUDGET):
        ack(response_action="errors", errors={Block.TEXT: why[:FORM_ERROR]})
        return None
    return _close(ack, actor, actor.run(work, follow_up=False), Block.TEXT)


def door_form(ack: Ack, actor: Actor, door: Access, work: Callable[[Context], Reply | None], *, first_block: str) -> Reply | None:
    """A partner desk's form, its door already decided (bot/listeners/desk.py): like `form`."""
    return _close(ack, actor, actor.run_at_door(door, work, follow_up=False), first_block)


def _close(ack: Ack, actor: Actor, reply: Reply | None, first_block: str) -> Reply | None:
    """The mistake shown on the form (under the input it is about), or the form closed and
    the reply's outbox delivered."""
    if reply is not None and reply.error:
        ack(response_action="errors", errors={reply.field or first_block: reply.text[:FORM_ERROR]})
        return None
    ack()
    return follow(reply, slack=actor.deps.slack, now=datetime.now(timezone.utc))


def options(ack: Ack, actor: Actor, find: Callable[[], list[dict[str, Any]]]) -> None:
    """Suggestions for a select, answered within Slack's 3 seconds: none for a refused person."""
    if actor.refusal(budget=ACK_BUDGET):
        ack(options=[])
        return
    ack(options=find())


def notice(client: WebClient, opened: dict[str, Any], title: str, actor: Actor) -> bool:
    """A modal opened before the decision (a trigger_id lives 3 seconds) becomes the
    refusal for a refused person. True when refused."""
    if why := actor.refusal():
        client.views_update(view_id=opened["view"]["id"], view=notice_modal(title, why))
    return why is not None


def home(client: WebClient, actor: Actor) -> bool:
    """App Home for a refused person: whatever it showed before is replaced by one line. True when refused."""
    if why := actor.refusal():
        if actor.caller.user_id:
            client.views_publish(user_id=actor.caller.user_id, view=notice_home(why))
    return why is not None


def dm(actor: Actor, reply: Reply | None) -> None:
    """The final word of a form, sent to the person who submitted it."""
    if reply is not None and (reply.text or reply.blocks):
        actor.deps.slack.post(actor.caller.user_id, reply.fallback_text(), reply.blocks)
