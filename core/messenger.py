"""The shape of talking to Slack that commands and jobs share: what goes out
(`Notification`: a message with its effectively-once ledger key), what they may
ask (`Messenger`, implemented over the Web API in bot.slack and by the offline
console) and what comes back (`Posted`). Commands never send: they return
notifications, and one sender (jobs/delivery.py) delivers them after the commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

# The error code a Messenger gives when Slack says (or cannot rule out) that a
# channel is shared with another organisation: nothing of the record goes there.
SHARED = "channel_is_shared"
# The error code a Messenger gives when a shared channel reaches more than one other
# organisation: nobody's partner channel, so nothing partner-facing goes there either.
SEVERAL_ORGS = "channel_shared_with_several_organisations"
# The outcome of a notification whose ledger row another process (or an earlier click) owns.
NOT_OURS = "already_on_its_way"


@dataclass(frozen=True)
class Posted:
    """The outcome of one Slack call: ok with channel/ts, or Slack's error code."""

    ok: bool
    channel: str | None = None
    ts: str | None = None
    error: str | None = None
    link: str | None = None  # the message's permalink, when the notification asked for it


@dataclass(frozen=True)
class Notification:
    """One message to send, keyed (job, subject, period) in the ledger: claimed before
    Slack is called, so it goes out once however often the key is produced."""

    job: str
    subject: str
    period: str
    target: str  # channel ID, or a user ID for a DM
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    # Post as a reply in the thread of another notification, by its ledger key (job, subject,
    # period), looked up when sent: until that one is sent, this one waits (failed, retried).
    thread_of: tuple[str, str, str] | None = None
    # A file to upload instead of a message: (filename, title, PNG bytes).
    file: tuple[str, str, bytes] | None = None
    # Take the ledger row again when an earlier attempt failed or crashed (a request's own post).
    retake: bool = False
    # Replace this message of `target` in place (chat.update) instead of posting; a later
    # update of the same job and subject supersedes it, so a retry never shows old news.
    update_ts: str | None = None
    # Return the message's permalink in Posted.link.
    link: bool = False
    # (channel, ts, label): when sent, a line linking that message is added, labelled so
    # (its permalink is asked of Slack then, never while the change's transaction is open).
    link_to: tuple[str, str, str] | None = None
    # (job, subject, period, label): like link_to, for a message of ours whose place is
    # known only once it is sent (looked up in the ledger at send time; no line if unsent).
    link_to_sent: tuple[str, str, str, str] | None = None
    # Partner-facing: built only from what a partner may see (views/partner_facing.py),
    # for this partner's linked channel. Only these may go to a Slack Connect channel,
    # and only while the partner is still linked to `target` (checked at send time).
    partner_id: int | None = None
    # Pin the message once posted (the partner desk), when the bot may.
    pin: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.job, self.subject, self.period)


class Messenger(Protocol):
    """What commands may ask of Slack. Implemented over the Web API (bot.slack)
    and by the offline console; commands never import a Slack SDK."""

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]], *, thread_ts: str | None = None,
             partner_safe: bool = False) -> Posted:
        """Post to a channel or DM; a shared channel only when `partner_safe` (partner-facing content)."""
        ...

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]], *, partner_safe: bool = False) -> Posted: ...

    def pin(self, channel: str, ts: str) -> bool:
        """Pin a message; False when Slack refuses (no pins:write, or not allowed there)."""
        ...

    def permalink(self, channel: str, ts: str) -> str | None: ...

    def ensure_member(self, channel: str) -> str | None:
        """Join a public channel if needed; return an error code when the bot cannot post there."""
        ...

    def shared_problem(self, channel: str) -> str | None:
        """None when Slack says the channel is not shared with another organisation; else why not."""
        ...

    def partner_channel_problem(self, channel: str) -> str | None:
        """None when a shared channel may be one partner's: Slack names no more than one
        other organisation in it (when it names them); else why not."""
        ...
