"""The scheduled jobs by name, in the order people see them: one list for
jobs/runner.py (which gives each its schedule and code) and `/partner jobs`
(commands sit beside jobs, not above them, so they cannot ask the runner)."""

from __future__ import annotations

from core.settings import Settings

ALWAYS = ("qbr-reminders", "stalled-onboarding", "request-escalations", "kpi-digest", "retry", "health-refresh")
# Jobs that run only when their integration is configured.
OPTIONAL = ("webhook-delivery", "crm-sync")


def scheduled(settings: Settings) -> list[str]:
    """The jobs this configuration schedules."""
    enabled = {"webhook-delivery": bool(settings.webhooks), "crm-sync": bool(settings.crm)}
    return [*ALWAYS, *(name for name in OPTIONAL if enabled[name])]
