"""What a subcommand gets (Context) and gives back (Reply)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.messenger import Messenger, Notification, Posted
from core.settings import Settings
from views.text import escape


@dataclass(frozen=True)
class Caller:
    user_id: str
    channel_id: str | None = None
    team_id: str | None = None
    # Set for a person acting at a partner desk (a partner's own people, or one of ours
    # there): their organisation's team ID (or "stranger"), kept in the audit trail.
    partner_org: str | None = None


@dataclass
class Context:
    session: Session
    caller: Caller
    settings: Settings
    now: datetime
    slack: Messenger

    @property
    def is_admin(self) -> bool:
        return self.settings.is_admin(self.caller.user_id)


@dataclass
class Reply:
    """A message for the caller: Block Kit plus a fallback `text`.

    `text` is written as plain words (partner names as typed) and escaped on the
    way out, like the blocks; only an error's text, composed by us with its
    values escaped where built, goes out as it is."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = True
    # For buttons: replace the message that was clicked instead of answering beside it.
    replace_original: bool = False
    # What to tell whom once the unit of work has committed: claimed in the ledger with
    # the change, sent by the one sender (jobs/delivery.py), never by the command itself.
    outbox: list[Notification] = field(default_factory=list)
    # The reply once the outbox is delivered, from its outcomes (one Posted per notification);
    # it may carry an outbox of its own (e.g. DMs to the admins when a channel post failed).
    then: Callable[[list[Posted]], Reply] | None = None
    # Set by the dispatcher: which outbox rows this process claimed with the change.
    claimed: list[bool] | None = None
    # A refusal or mistake: never shared into a channel, shown on a form instead of closing it.
    error: bool = False
    # On a form: the input (block_id) the mistake is shown under.
    field: str | None = None

    def fallback_text(self) -> str:
        return self.text if self.error else escape(self.text)

    def payload(self) -> dict[str, Any]:
        if self.replace_original:
            return {"replace_original": True, "text": self.fallback_text(), "blocks": self.blocks}
        return {
            "response_type": "ephemeral" if self.ephemeral else "in_channel",
            "text": self.fallback_text(),
            "blocks": self.blocks,
        }
