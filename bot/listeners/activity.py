"""Partner activity: messages the partner's own people post in its channel count as
engagement (health, the card). Counted, never read: only the time and a per-day count
are stored, never the text (storage/activity.py).

Every message event lands here, whatever its subtype (edits, joins, bots' posts), so
Bolt acknowledges them all without an "unhandled request" warning; only a person's own
post is counted, and nothing is ever said back to Slack."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from slack_bolt import App
from sqlalchemy.orm import Session

from bot.listeners.actor import Actor
from bot.slack import ACCESS_TTL, JobSlack, is_external
from storage import activity, partners
from storage.db import unit_of_work

# A person's own post: no subtype, or one shared from a thread to the channel, or with a file.
POSTED_SUBTYPES = {None, "thread_broadcast", "file_share"}
CHANNEL_TYPES = {"channel", "group"}  # message.channels, message.groups


def message_posted(event: dict[str, Any], actor: Actor) -> None:
    """Bolt has acked the event before this runs. The channel's link is read first (no
    Slack call for the many messages in channels that are no partner's)."""
    if not posted_by_a_person(event):
        return
    with unit_of_work(read_only=True) as session:
        if linked(session, event["channel"]) is None:
            return
    if not external(actor.deps.slack, event["user"]):
        return
    with unit_of_work() as session:
        # Read again in the write: a link removed, or a partner deleted, meanwhile counts nothing.
        if (partner_id := linked(session, event["channel"])) is not None:
            activity.record_message(session=session, partner_id=partner_id, at=posted_at(event), zone=actor.deps.settings.zone)


def posted_by_a_person(event: dict[str, Any]) -> bool:
    return (event.get("subtype") in POSTED_SUBTYPES and event.get("channel_type") in CHANNEL_TYPES
            and not event.get("bot_id") and bool(event.get("user")) and bool(event.get("channel")))


def linked(session: Session, channel: str) -> int | None:
    """The id of the live partner whose channel this is."""
    partner = partners.linked_to(session=session, channel_id=channel)
    return partner.id if partner is not None else None


def external(slack: JobSlack, user_id: str) -> bool:
    """Slack says this person belongs to another organisation. When Slack cannot say, the
    message is not counted: a partner's activity is never guessed."""
    info, team = slack.user_info(user_id, max_age=ACCESS_TTL), slack.own_team()
    return info is not None and team is not None and is_external(info, team)


def posted_at(event: dict[str, Any]) -> datetime:
    """When the message was posted (its `ts`), not when the event arrived (a redelivery is
    late); never later than now, since the partner's last activity never moves back."""
    now = datetime.now(timezone.utc)
    try:
        return min(datetime.fromtimestamp(float(event["ts"]), timezone.utc), now)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return now


def register(app: App) -> None:
    app.event("message")(message_posted)
