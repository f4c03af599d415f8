"""Slack listeners, one module per surface: the slash command (command), request
buttons and forms (requests), deal buttons (deals), logging shortcuts and form
(log), App Home (home), form suggestions (options), partner activity in partner
channels (activity: message events, counted), the QBR brief's Share scorecard
with partner (brief).

Each listener is a few lines: ack, delegate to commands/, answer. Who acted and
whether partnerbot serves them come from one middleware (actor.py); how a refusal
or a mistake is shown on each surface is decided in one place (answers.py)."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import activity, actor, brief, command, deals, desk, home, log, options, requests
from bot.listeners.actor import Deps

__all__ = ["Deps", "register"]


def register(app: App, deps: Deps) -> None:
    actor.attach(app, deps)
    for surface in (command, requests, deals, desk, log, home, options, activity, brief):
        surface.register(app)
