"""What a subcommand gets (Context) and gives back (Reply)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.settings import Settings


@dataclass(frozen=True)
class Caller:
    user_id: str
    channel_id: str | None = None
    team_id: str | None = None


@dataclass
class Context:
    session: Session
    caller: Caller
    settings: Settings
    now: datetime

    @property
    def is_admin(self) -> bool:
        return self.settings.is_admin(self.caller.user_id)


@dataclass
class Reply:
    """A message for the caller: Block Kit plus a plain-text fallback."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = True

    def payload(self) -> dict[str, Any]:
        return {
            "response_type": "ephemeral" if self.ephemeral else "in_channel",
            "text": self.text,
            "blocks": self.blocks,
        }
