"""`crm-sync` (daily at 06:00, and `partnerbot sync crm`): closed-won deals from
the CRM become `revenue` (sum) and `deals` (count) KPI values of source `crm`,
per partner and month (SPEC §10).

Connectors fetch everything first; the database is written in one unit of work
only when every page arrived, so a sync that fails part-way commits nothing.
The CRM values of the synced months are replaced (a re-run changes nothing);
manual values stay and still win, unless `overwrite` deletes them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from core.settings import Settings
from jobs.crm.base import Connector, Deal, SyncError
from jobs.crm.hubspot import HubSpot
from jobs.crm.json_source import JsonSource
from jobs.crm.matching import AMBIGUOUS, Matcher
from storage import kpis, locks, partners
from storage.db import unit_of_work
from storage.periods import month_bounds, month_of, quarter_months, quarter_of
from views.crm import change_line, removed_line, report_summary, report_text

JOB_ID = "crm-sync"
LOCK_STALE = timedelta(hours=1)
__all__ = ["JOB_ID", "Report", "SyncError", "connector", "scope", "sync"]


@dataclass
class Report:
    months: list[str]
    deals_seen: int = 0
    matched: int = 0
    revenue: Decimal = Decimal(0)
    without_amount: list[str] = field(default_factory=list)
    without_partner: int = 0
    unmatched: Counter = field(default_factory=Counter)
    ambiguous: Counter = field(default_factory=Counter)
    values_written: int = 0
    changes: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        return report_summary(self)

    def render(self) -> str:
        return report_text(self)


def connector(settings: Settings, *, sleep=None) -> Connector:
    if settings.crm == "hubspot":
        return HubSpot(settings, sleep=sleep)
    if settings.crm == "json":
        return JsonSource(settings, sleep=sleep)
    raise SyncError("no CRM is configured: set PARTNERBOT_CRM to hubspot or json")


def scope(settings: Settings, now: datetime, since: date | None) -> tuple[list[str], datetime, datetime]:
    """Months of the current and previous fiscal quarter (or from `since` on), and their bounds."""
    fiscal = settings.fiscal_year_start
    this_quarter = quarter_months(quarter_of(month_of(now.astimezone(settings.zone).date()), fiscal_start=fiscal), fiscal_start=fiscal)
    before = date(int(this_quarter[0][:4]), int(this_quarter[0][5:]), 1) - timedelta(days=1)
    first = since.replace(day=1) if since else date.fromisoformat(quarter_months(quarter_of(month_of(before), fiscal_start=fiscal), fiscal_start=fiscal)[0] + "-01")
    months, cursor = [], first
    while month_of(cursor) <= this_quarter[-1]:
        months.append(month_of(cursor))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    start, _ = month_bounds(months[0], settings.zone)
    _, end = month_bounds(months[-1], settings.zone)
    return months, start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def sync(*, settings: Settings, now: datetime | None = None, dry_run: bool = False, overwrite: bool = False,
         since: date | None = None, source: Connector | None = None) -> Report:
    now = now or datetime.now(timezone.utc)
    months, start, end = scope(settings, now, since)
    report = Report(months=months, dry_run=dry_run)
    holder = f"{threading.get_ident()}@{time.time():.0f}"
    if not dry_run:
        with unit_of_work() as session:
            if not locks.acquire(session=session, name=JOB_ID, holder=holder, now=now, stale=LOCK_STALE):
                raise SyncError("another CRM sync is running; try again when it finishes")
    try:
        deals = list((source or connector(settings)).deals(start, end))  # every page, before any write
        with unit_of_work() as session:
            _apply(session, deals, report, months=months, now=now, overwrite=overwrite)
            if dry_run:
                session.rollback()
    finally:
        if not dry_run:
            with unit_of_work() as session:
                locks.release(session=session, name=JOB_ID, holder=holder)
    return report


def _totals(deals: list[Deal], matcher: Matcher, report: Report, months: list[str]) -> dict[tuple[int, str, str], list[Decimal]]:
    """(partner, month, attribution) → [revenue, count] of the matched deals; the report counts the rest."""
    totals: dict[tuple[int, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    report.deals_seen = len(deals)
    for deal in deals:
        if not deal.partner:
            report.without_partner += 1
            continue
        pid = matcher.match(deal.partner)
        if pid == AMBIGUOUS:
            report.ambiguous[deal.partner] += 1
            continue
        if pid is None:
            report.unmatched[deal.partner] += 1
            continue
        if deal.amount is None:
            report.without_amount.append(deal.id)
        month = month_of(deal.closed_on)
        if month not in months:
            continue
        bucket = totals[(pid, month, deal.attribution)]
        bucket[0] += deal.amount or Decimal(0)
        bucket[1] += 1
        report.matched += 1
        report.revenue += deal.amount or Decimal(0)
    return totals


def _apply(session, deals: list[Deal], report: Report, *, months: list[str], now: datetime, overwrite: bool) -> None:
    matcher = Matcher(partners.names_and_crm_ids(session=session))
    totals = _totals(deals, matcher, report, months)
    existing = kpis.values_of_source(session=session, source="crm", months=months)
    # Values the CRM no longer has go; the others are set in place (an unchanged one is left
    # alone), so the KPI history records what changed, not every sync.
    kpis.delete_values(session=session, source="crm", now=now, keys=[
        key for key in existing if (key[0], key[2], key[3]) not in totals])
    for (pid, month, attribution), (revenue, count) in sorted(totals.items()):
        for metric, value in (("revenue", revenue), ("deals", Decimal(count))):
            old = existing.get((pid, metric, month, attribution))
            if old != value:
                report.changes.append(change_line(matcher.names[pid], metric, month, attribution, old, value))
            kpis.set_kpi(session=session, partner_id=pid, metric=metric, month=month, value=value, user_id=None,
                         now=now, source="crm", attribution=attribution)
            report.values_written += 1
            if overwrite:
                kpis.delete_value(session=session, partner_id=pid, metric=metric, month=month, source="manual",
                                  attribution=attribution, now=now)
    for (pid, metric, month, attribution), old in existing.items():
        if (pid, month, attribution) not in totals:
            report.changes.append(removed_line(matcher.names.get(pid, pid), metric, month, old))
