"""The shape of talking to Slack that commands and jobs share: what they may ask
(`Messenger`, implemented over the Web API in bot.slack and by the offline
console) and what comes back (`Posted`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# The error code a Messenger gives when Slack says (or cannot rule out) that a
# channel is shared with another organisation: nothing of the record goes there.
SHARED = "channel_is_shared"


@dataclass(frozen=True)
class Posted:
    """The outcome of one Slack call: ok with channel/ts, or Slack's error code."""

    ok: bool
    channel: str | None = None
    ts: str | None = None
    error: str | None = None


class Messenger(Protocol):
    """What commands may ask of Slack. Implemented over the Web API (bot.slack)
    and by the offline console; commands never import a Slack SDK."""

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], *, thread_ts: str | None = None) -> Posted: ...

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Posted: ...

    def permalink(self, channel: str, ts: str) -> str | None: ...

    def ensure_member(self, channel: str) -> str | None:
        """Join a public channel if needed; return an error code when the bot cannot post there."""
        ...

    def shared_problem(self, channel: str) -> str | None:
        """None when Slack says the channel is not shared with another organisation; else why not."""
        ...
