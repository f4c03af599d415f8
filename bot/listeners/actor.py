"""Who acted, and whether partnerbot serves them: resolved once per request.

A Bolt middleware puts an `Actor` in the context (a listener takes it as `actor`).
It reads the caller from the payload alone, so nothing delays the ack; the access
decision (bot/access.py: users.info, auth.test, which can be slow) is made the
first time a listener asks — after its ack and any views.open, or within
ACK_BUDGET for forms and suggestions (bot/listeners/answers.py) — and is kept for
the rest of the request. Listeners never ask the Gate themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from bot.access import OUTSIDER, Access, Gate
from bot.dispatch import run, run_command
from bot.slack import JobSlack
from commands import Caller, Context, Reply, UserError, error_reply
from core.settings import Settings


@dataclass(frozen=True)
class Deps:
    """What every listener shares: the settings, the one way to Slack, the access gate."""

    settings: Settings
    slack: JobSlack
    gate: Gate

    @classmethod
    def build(cls, app: App, settings: Settings) -> Deps:
        slack = JobSlack(app.client, settings.zone)
        return cls(settings, slack, Gate(settings, slack))


class Actor:
    def __init__(self, caller: Caller, deps: Deps):
        self.caller = caller
        self.deps = deps
        self._access: Access | None = None
        self._doors: dict[str | None, Access] = {}

    @property
    def _decided(self) -> bool:
        return self._access is not None

    def access(self, *, budget: float | None = None) -> Access:
        """The decision for partnerbot's internal surfaces. Decided on the first call
        (within `budget` seconds when given; unknown means no), then kept."""
        if self._access is None:
            self._access = self.deps.gate.decide(self.caller.user_id, budget=budget)
        return self._access

    def refusal(self, *, budget: float | None = None) -> str | None:
        """Why partnerbot does not serve this person here, or None when it does."""
        return self.access(budget=budget).refusal

    def at_partner_door(self, channel_id: str | None, *, budget: float | None = None) -> Access:
        """The decision at a partner-facing door in `channel_id` (the desk, `/partner
        scorecard`): members and that partner's own people, for the partner linked to the
        channel. The channel comes from Slack's payload or our own record of a form, never
        from a button value or form field."""
        if channel_id not in self._doors:
            self._doors[channel_id] = self.deps.gate.decide(self.caller.user_id, channel_id=channel_id, partner_door=True,
                                                            budget=budget)
        return self._doors[channel_id]

    def known(self) -> bool:
        """Whether the access decision needs no Slack call (made, or answerable from memory)."""
        return self._decided or self.deps.gate.known(self.caller.user_id)

    def refused(self) -> Reply | None:
        """The refusal as a reply, like any other UserError; None when partnerbot serves them."""
        why = self.refusal()
        return error_reply(UserError(why)) if why else None

    def run(self, work: Callable[[Context], Reply | None], **kwargs: Any) -> Reply | None:
        """`work` in the one session scope (bot/dispatch.py) — or the refusal, with nothing read."""
        if (refused := self.refused()) is not None:
            return refused
        return run(work, caller=self.caller, settings=self.deps.settings, slack=self.deps.slack, **kwargs)

    def run_at_door(self, door: Access, work: Callable[[Context], Reply | None], **kwargs: Any) -> Reply | None:
        """`work` for a partner-facing door already decided (`at_partner_door`): the refusal,
        with nothing read, unless that door let this person in."""
        if door.refusal is not None or door.partner_id is None:
            return error_reply(UserError(door.refusal or OUTSIDER))
        caller = Caller(self.caller.user_id, door.channel_id, self.caller.team_id, partner_org=door.team_id)
        return run(work, caller=caller, settings=self.deps.settings, slack=self.deps.slack, **kwargs)

    def command(self, text: str) -> Reply:
        """A `/partner` line (typed, or carried by a Share or Next page button) — or the refusal."""
        if (refused := self.refused()) is not None:
            return refused
        return run_command(text, caller=self.caller, settings=self.deps.settings, slack=self.deps.slack)


def caller_of(body: dict[str, Any]) -> Caller:
    """Who acted, from the payload alone: a slash command's fields, an event's user,
    or an interaction's user, channel and team objects."""
    if "command" in body:
        return Caller(body.get("user_id") or "", body.get("channel_id"), body.get("team_id"))
    if body.get("type") == "event_callback":
        return Caller(_field(body, "event", "user") or "")
    return Caller(_field(body, "user", "id") or "", _field(body, "channel", "id"), _field(body, "team", "id"))


def _field(body: dict[str, Any], outer: str, inner: str) -> Any:
    value = body.get(outer)
    return value.get(inner) if isinstance(value, dict) else None


def attach(app: App, deps: Deps) -> None:
    """Every request gets its Actor before its listener runs (no Slack call here)."""

    def who_acted(body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        context["actor"] = Actor(caller_of(body), deps)
        return next()

    app.middleware(who_acted)
