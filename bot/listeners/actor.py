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

from bot.access import Gate
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
        self._decided = False
        self._refusal: str | None = None

    def refusal(self, *, budget: float | None = None) -> str | None:
        """Why partnerbot does not serve this person, or None when it does. Decided on the
        first call (within `budget` seconds when given; unknown means no), then kept."""
        if not self._decided:
            self._refusal = self.deps.gate.refusal(self.caller.user_id, budget=budget)
            self._decided = True
        return self._refusal

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
