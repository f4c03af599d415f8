"""`crm-sync` (daily at 06:00, and `partnerbot sync crm`): closed-won deals from
the CRM become `revenue` (sum) and `deals` (count) KPI values of source `crm`,
per partner and month (SPEC §10).

Connectors fetch everything first; the database is written in one unit of work
only when every page arrived, so a sync that fails part-way commits nothing.
The CRM values of the synced months are replaced (a re-run changes nothing);
manual values stay and still win, unless `overwrite` deletes them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from sqlalchemy import delete, select

from core import outbound
from views.text import plural
from core.settings import Settings
from storage import kpis
from storage.db import unit_of_work
from storage.models import KpiValue, Lock, Partner
from storage.names import match_key
from storage.periods import month_bounds, month_of, quarter_months, quarter_of

JOB_ID = "crm-sync"
log = logging.getLogger(__name__)
SEARCH_LIMIT = 10_000  # HubSpot returns at most this many results for one search
PAGE_SIZE = 100
MAX_ATTEMPTS = 6  # the first try and 5 retries
LOCK_STALE = timedelta(hours=1)
_sleep = time.sleep  # tests replace this, not the global time.sleep


class SyncError(Exception):
    """The sync could not finish; nothing was written."""


@dataclass(frozen=True)
class Deal:
    id: str
    partner: str | None
    amount: Decimal | None
    closed_on: date
    attribution: str = "sourced"


class Connector(Protocol):
    def deals(self, start: datetime, end: datetime) -> Iterator[Deal]: ...


# --- HTTP with retries and a per-process throttle -------------------------------------

class Throttle:
    """At most `rate` requests a second from this process (HubSpot allows ~4/s per token)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


HUBSPOT_THROTTLE = Throttle(4.0)


def call(method: str, url: str, *, settings: Settings, throttle: Throttle | None = None, sleep=None, **kwargs) -> outbound.Answer:
    """Retry 429 after Retry-After (else 1 s doubling to 30 s), 5xx and timeouts, at most 5 times."""
    delay = 1.0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if throttle:
            throttle.wait()
        try:
            answer = outbound.request(method, url, allow_private=settings.allow_private_urls, **kwargs)
        except outbound.Refused as refused:
            raise SyncError(f"refused: {refused}") from None
        except (httpx.TimeoutException, httpx.TransportError) as error:
            problem, wait = f"network error ({type(error).__name__})", delay
        else:
            if answer.status == 429:
                problem = "rate limited (429)"
                retry_after = answer.headers.get("Retry-After")
                wait = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else delay
            elif answer.status >= 500:
                problem, wait = f"HTTP {answer.status}", delay
            elif answer.status >= 400:
                # Never the body: a CRM may echo the request (and its Authorization header) back.
                hint = "; check PARTNERBOT_CRM_TOKEN" if answer.status in (401, 403) else ""
                raise SyncError(f"the CRM answered HTTP {answer.status}{hint}")
            elif answer.status >= 300:
                raise SyncError(f"the CRM answered a redirect (HTTP {answer.status}); redirects are not followed "
                                "with the token: set PARTNERBOT_CRM_URL to the final address")
            else:
                return answer
        if attempt == MAX_ATTEMPTS:
            raise SyncError(f"the CRM kept failing: {problem}")
        log.info("CRM %s; retrying in %.1f s", problem, wait)
        (sleep or _sleep)(min(wait, 30.0))
        delay = min(delay * 2, 30.0)
    raise AssertionError("unreachable")


# --- connectors -----------------------------------------------------------------------

def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class HubSpot:
    def __init__(self, settings: Settings, *, sleep=None):
        self.settings, self.sleep = settings, sleep
        self.url = (settings.crm_url or "https://api.hubapi.com").rstrip("/") + "/crm/v3/objects/deals/search"
        self.headers = {"Authorization": f"Bearer {settings.crm_token.get_secret_value() if settings.crm_token else ''}"}

    def _search(self, start: datetime, end: datetime, after: str | None, limit: int = PAGE_SIZE) -> dict:
        filters = [
            {"propertyName": "closedate", "operator": "GTE", "value": str(int(start.timestamp() * 1000))},
            {"propertyName": "closedate", "operator": "LT", "value": str(int(end.timestamp() * 1000))},
        ]
        if self.settings.crm_won_stages:
            filters.append({"propertyName": "dealstage", "operator": "IN", "values": self.settings.crm_won_stages})
        else:
            filters.append({"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"})
        body = {
            "filterGroups": [{"filters": filters}],
            "properties": ["amount", "amount_in_home_currency", "closedate", "hs_is_closed_won", "dealstage",
                           self.settings.crm_partner_property],
            "sorts": [{"propertyName": "closedate", "direction": "ASCENDING"}],
            "limit": limit,
        }
        if after:
            body["after"] = after
        answer = call("POST", self.url, settings=self.settings, throttle=HUBSPOT_THROTTLE, sleep=self.sleep,
                      json=body, headers=self.headers)
        try:
            return answer.json()
        except ValueError:
            raise SyncError("HubSpot answered something that is not JSON") from None

    def deals(self, start: datetime, end: datetime) -> Iterator[Deal]:
        first = self._search(start, end, None)
        if first.get("total", 0) > SEARCH_LIMIT and end - start > timedelta(days=1):
            middle = start + (end - start) / 2
            yield from self.deals(start, middle)
            yield from self.deals(middle, end)
            return
        page = first
        while True:
            for item in page.get("results", []):
                yield self._deal(item)
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            page = self._search(start, end, after)

    def _deal(self, item: dict) -> Deal:
        props = item.get("properties") or {}
        closed = props.get("closedate") or ""
        try:
            closed_at = datetime.fromisoformat(closed.replace("Z", "+00:00"))
        except ValueError:
            raise SyncError(f"deal {item.get('id')} has an unreadable closedate {closed!r}") from None
        home = _decimal(props.get("amount_in_home_currency"))
        amount = home if home is not None else _decimal(props.get("amount"))
        closed_on = closed_at.astimezone(self.settings.zone).date()
        return Deal(str(item.get("id")), props.get(self.settings.crm_partner_property) or None, amount, closed_on)


class JsonSource:
    """GET PARTNERBOT_CRM_URL → {"deals": [...], "next": url|null}, bearer token."""

    def __init__(self, settings: Settings, *, sleep=None):
        self.settings, self.sleep = settings, sleep
        self.headers = {"Authorization": f"Bearer {settings.crm_token.get_secret_value() if settings.crm_token else ''}"}

    def deals(self, start: datetime, end: datetime) -> Iterator[Deal]:
        url: str | None = self.settings.crm_url
        origin = _origin(url or "")
        pages = 0
        while url:
            pages += 1
            if pages > 10_000:
                raise SyncError("the JSON source kept returning `next` pages")
            try:
                data = call("GET", url, settings=self.settings, sleep=self.sleep, headers=self.headers).json()
                rows, following = data["deals"], data.get("next")
                url = urljoin(url, following) if following else None
            except (ValueError, KeyError, TypeError):
                raise SyncError('the JSON source must return {"deals": [...], "next": url or null}') from None
            if url and _origin(url) != origin:
                # The bearer token belongs to the configured origin; a `next` elsewhere would hand it over.
                raise SyncError(f"the JSON source's `next` page is on {urlsplit(url).hostname or 'another host'}, not on "
                                f"the origin of PARTNERBOT_CRM_URL ({origin[0]}://{origin[1]}:{origin[2]}); "
                                "the token is only sent there")
            for row in rows:
                try:
                    closed_on = date.fromisoformat(row["closed_at"])
                except (KeyError, TypeError, ValueError):
                    raise SyncError(f"deal {row.get('id')!r} has no closed_at date (YYYY-MM-DD)") from None
                if start.astimezone(self.settings.zone).date() <= closed_on < end.astimezone(self.settings.zone).date():
                    attribution = "influenced" if row.get("attribution") == "influenced" else "sourced"
                    yield Deal(str(row.get("id")), row.get("partner") or None, _decimal(row.get("amount")), closed_on, attribution)


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port filled in: what the token is bound to."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1  # unreadable: matches nothing valid
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or {"https": 443, "http": 80}.get(scheme)


def connector(settings: Settings, *, sleep=None) -> Connector:
    if settings.crm == "hubspot":
        return HubSpot(settings, sleep=sleep)
    if settings.crm == "json":
        return JsonSource(settings, sleep=sleep)
    raise SyncError("no CRM is configured: set PARTNERBOT_CRM to hubspot or json")


# --- the sync --------------------------------------------------------------------------

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
        return (f"{self.matched}/{plural(self.deals_seen, 'deal')} matched ({self.revenue:,.2f}), "
                f"{plural(len(self.unmatched), 'unmatched name')}, {len(self.ambiguous)} ambiguous, "
                f"{self.without_partner} without partner, {len(self.without_amount)} without amount")

    def render(self) -> str:
        lines = [f"CRM sync of {self.months[0]}…{self.months[-1]}" + (" (dry run: nothing written)" if self.dry_run else ""),
                 f"  deals: {self.deals_seen}, matched to partners: {self.matched}, revenue {self.revenue:,.2f}"]
        if self.unmatched:
            lines.append("  unmatched partner names: " + ", ".join(f"{n} ({c})" for n, c in self.unmatched.most_common(20)))
        if self.ambiguous:
            lines.append("  ambiguous names (match several partners, counted for none): " + ", ".join(f"{n} ({c})" for n, c in self.ambiguous.most_common(20)))
        if self.without_partner:
            lines.append(f"  deals without a partner: {self.without_partner}")
        if self.without_amount:
            lines.append(f"  deals without an amount (counted with revenue 0): {', '.join(self.without_amount[:20])}")
        lines += ["  " + change for change in self.changes[:200]]
        lines.append(f"  KPI values {'to write' if self.dry_run else 'written'}: {self.values_written}")
        return "\n".join(lines)


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


def _acquire(session, now: datetime, holder: str) -> bool:
    lock = session.get(Lock, JOB_ID)
    if lock is None:
        session.add(Lock(name=JOB_ID, holder=holder, acquired_at=now))
        return True
    if now - lock.acquired_at > LOCK_STALE:
        lock.holder, lock.acquired_at = holder, now
        return True
    return False


def sync(*, settings: Settings, now: datetime | None = None, dry_run: bool = False, overwrite: bool = False,
         since: date | None = None, source: Connector | None = None) -> Report:
    now = now or datetime.now(timezone.utc)
    months, start, end = scope(settings, now, since)
    report = Report(months=months, dry_run=dry_run)
    holder = f"{threading.get_ident()}@{time.time():.0f}"
    if not dry_run:
        with unit_of_work() as session:
            if not _acquire(session, now, holder):
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
                session.execute(delete(Lock).where(Lock.name == JOB_ID, Lock.holder == holder))
    return report


def _apply(session, deals: list[Deal], report: Report, *, months: list[str], now: datetime, overwrite: bool) -> None:
    partners = list(session.execute(select(Partner.id, Partner.name, Partner.crm_id)).all())
    by_key: dict[str, list[int]] = defaultdict(list)
    for pid, name, _ in partners:
        by_key[match_key(name)].append(pid)
    pinned = {crm_id: pid for pid, _, crm_id in partners if crm_id}
    names = {pid: name for pid, name, _ in partners}
    totals: dict[tuple[int, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    report.deals_seen = len(deals)
    for deal in deals:
        if not deal.partner:
            report.without_partner += 1
            continue
        pid = pinned.get(deal.partner)
        if pid is None:
            candidates = by_key.get(match_key(deal.partner), [])
            if len(candidates) > 1:
                report.ambiguous[deal.partner] += 1
                continue
            if not candidates:
                report.unmatched[deal.partner] += 1
                continue
            pid = candidates[0]
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
    existing = {
        (k.partner_id, k.metric, k.month, k.attribution): k.value
        for k in session.scalars(select(KpiValue).where(KpiValue.source == "crm", KpiValue.month.in_(months)))
    }
    session.execute(delete(KpiValue).where(KpiValue.source == "crm", KpiValue.month.in_(months)))
    session.flush()
    for (pid, month, attribution), (revenue, count) in sorted(totals.items()):
        for metric, value in (("revenue", revenue), ("deals", Decimal(count))):
            old = existing.get((pid, metric, month, attribution))
            if old != value:
                report.changes.append(f"{names[pid]} {metric} {month}{' influenced' if attribution == 'influenced' else ''}: {old if old is not None else '—'} → {value}")
            kpis.set_kpi(session=session, partner_id=pid, metric=metric, month=month, value=value, user_id=None,
                           now=now, source="crm", attribution=attribution)
            report.values_written += 1
            if overwrite:
                session.execute(delete(KpiValue).where(KpiValue.partner_id == pid, KpiValue.metric == metric,
                                                       KpiValue.month == month, KpiValue.source == "manual",
                                                       KpiValue.attribution == attribution))
    for (pid, metric, month, attribution), old in existing.items():
        if (pid, month, attribution) not in totals:
            report.changes.append(f"{names.get(pid, pid)} {metric} {month}: {old} → removed (no deals in the CRM)")
