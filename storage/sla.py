"""The SLA clock, and the request figures read by it.

One clock for everything that says how long a request waited: escalations, the
claimer's reminder, the digest's "past SLA" and `/partner report`. It counts the
working time of `PARTNERBOT_BUSINESS_HOURS` (default `mon-fri`: Monday to Friday,
whole days) in `PARTNERBOT_TIMEZONE`, minus the days of `PARTNERBOT_HOLIDAYS`.
Each local day's window is turned into UTC instants before anything is
subtracted, so a day that changes to or from daylight saving time has its real
length (an aware `datetime` minus another in the same zone would count wall time).

Working time is summed per calendar year into a table of running totals (built
once per year and clock), so an interval or a due time costs a lookup and a
binary search, whatever its length: the figures read thousands of requests.
"""

from __future__ import annotations

import bisect
import statistics
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from core.settings import BusinessWeek, Settings, parse_business_hours, parse_holiday
from storage.models import HelpRequest, RequestStatus, Route

UTC = timezone.utc


class Clock:
    """Business time in one zone, week and set of holidays."""

    def __init__(self, zone: ZoneInfo, week: BusinessWeek, holidays: tuple[str, ...]):
        self.zone, self.week = zone, week
        closed = [parse_holiday(item) for item in holidays]
        self._dates = {d for d in closed if isinstance(d, date)}
        self._countries = [c for c in closed if not isinstance(c, date)]
        self._years: dict[int, tuple[list[float], list[tuple[datetime, datetime] | None]]] = {}
        self._lock = threading.Lock()

    # --- the public arithmetic ---------------------------------------------
    def hours(self, start: datetime, end: datetime) -> float:
        """Business hours from `start` to `end` (0 when `end` is not later)."""
        if end <= start:
            return 0.0
        (y1, at1), (y2, at2) = self._offset(start), self._offset(end)
        seconds = at2 - at1 + sum(self._year(y)[0][-1] for y in range(y1, y2))
        return max(seconds, 0.0) / 3600

    def due(self, start: datetime, hours: float) -> datetime:
        """The instant at which `hours` business hours have passed since `start`: the
        end of a working window when the SLA runs out exactly at closing time."""
        if hours <= 0:
            return start.astimezone(UTC)
        year, remaining = self._offset(start)
        remaining += hours * 3600
        for _ in range(200):  # a week with working days reaches any SLA long before this
            totals, windows = self._year(year)
            if remaining <= totals[-1]:
                day = bisect.bisect_left(totals, remaining) - 1
                opens, _ = windows[day]  # type: ignore[misc]  # a day that adds time has a window
                return opens + timedelta(seconds=remaining - totals[day])
            remaining -= totals[-1]
            year += 1
        raise ValueError(f"no business hours within 200 years of {start:%Y-%m-%d}")

    # --- the tables ------------------------------------------------------------
    def _offset(self, moment: datetime) -> tuple[int, float]:
        """(local year, business seconds from that year's start to `moment`)."""
        local = moment.astimezone(self.zone)
        totals, windows = self._year(local.year)
        day = local.timetuple().tm_yday - 1
        seconds = totals[day]
        if (window := windows[day]) is not None:
            instant = moment.astimezone(UTC)
            seconds += (min(max(instant, window[0]), window[1]) - window[0]).total_seconds()
        return local.year, seconds

    def _year(self, year: int) -> tuple[list[float], list[tuple[datetime, datetime] | None]]:
        """Running totals of business seconds before each day of `year` (one more entry
        than days: the last is the year's total) and each day's window in UTC."""
        if (table := self._years.get(year)) is not None:
            return table
        with self._lock:
            if year not in self._years:
                self._years[year] = self._build(year)
        return self._years[year]

    def _build(self, year: int) -> tuple[list[float], list[tuple[datetime, datetime] | None]]:
        closed = self._holidays(year)
        totals, windows = [0.0], []
        day = date(year, 1, 1)
        while day.year == year:
            window = None
            if day.weekday() in self.week.days and day not in closed:
                opens = datetime.combine(day, self.week.opens, self.zone).astimezone(UTC)
                closes = (datetime.combine(day, self.week.closes, self.zone) if self.week.closes
                          else datetime.combine(day + timedelta(days=1), time(), self.zone)).astimezone(UTC)
                window = (opens, closes)
            windows.append(window)
            totals.append(totals[-1] + ((window[1] - window[0]).total_seconds() if window else 0.0))
            day += timedelta(days=1)
        return totals, windows

    def _holidays(self, year: int) -> set[date]:
        import holidays  # only a clock with a country reads the package's tables

        days = {d for d in self._dates if d.year == year}
        for country, region in self._countries:
            days |= set(holidays.country_holidays(country, subdiv=region, years=year))
        return days


@lru_cache(maxsize=8)
def _clock(zone: str, week: str, holidays: tuple[str, ...]) -> Clock:
    return Clock(ZoneInfo(zone), parse_business_hours(week), holidays)


def clock(settings: Settings) -> Clock:
    """The clock these settings describe, shared by every caller with the same ones."""
    return _clock(settings.timezone, settings.business_hours, tuple(settings.holidays))


def business_hours(start: datetime, end: datetime, settings: Settings) -> float:
    """Business hours between two instants (the SLA clock)."""
    return clock(settings).hours(start, end)


def due_at(start: datetime, hours: float, settings: Settings) -> datetime:
    """When an SLA of `hours` business hours started at `start` runs out (UTC)."""
    return clock(settings).due(start, hours)


def team_slas(*, session: Session) -> dict[str, int]:
    """team → SLA hours, for the teams routed with their own (`route … sla:48h`)."""
    return dict(session.execute(select(Route.team, Route.sla_hours).where(Route.sla_hours.is_not(None))).all())


def sla_hours(team: str, *, slas: dict[str, int], settings: Settings) -> int:
    """A team's SLA: its own, else PARTNERBOT_REQUEST_SLA_HOURS."""
    return slas.get(team, settings.request_sla_hours)


# --- the figures: the digest's and the report's "Requests" ------------------------

@dataclass(frozen=True)
class TeamRequests:
    """One team's requests over a period [start, end), as of `now`, on the SLA clock.

    - `opened`: requests created in the period.
    - `resolved`: requests resolved in the period (whenever they were created).
    - `median_claim_hours`: median business hours from creation to being picked up, over
      the requests picked up in the period; picked up means claimed, or resolved by
      someone who never claimed it first. None when none was.
    - `median_resolve_hours`: median business hours from creation to resolution, over the
      requests resolved in the period. None when none was.
    - `past_sla`: of the requests opened in the period, how many were picked up after their
      SLA ran out, or are still not picked up and their SLA has run out by `now`.
      `past_sla_pct` is that share of `opened` (None when nothing was opened).
    - `past_sla_now`: ids of the requests still unclaimed past their SLA at `now`, whenever
      they were opened: the longest overdue first.
    - `sla_hours`: the team's SLA, its own (`route … sla:`) or PARTNERBOT_REQUEST_SLA_HOURS;
      every request is measured against its team's SLA as it is now. None on a total row.
    """

    team: str | None
    sla_hours: int | None
    opened: int
    resolved: int
    median_claim_hours: float | None
    median_resolve_hours: float | None
    past_sla: int
    past_sla_now: tuple[int, ...]
    # The durations behind the medians, so that `total` can take the medians of all teams.
    claim_hours: tuple[float, ...] = field(default=(), repr=False)
    resolve_hours: tuple[float, ...] = field(default=(), repr=False)
    overdue_since: tuple[datetime, ...] = field(default=(), repr=False)  # due time of each past_sla_now

    @property
    def past_sla_pct(self) -> float | None:
        return 100 * self.past_sla / self.opened if self.opened else None


def request_figures(session: Session, *, start: datetime, end: datetime, now: datetime, settings: Settings,
                    partner_ids: Select | None = None) -> list[TeamRequests]:
    """Per team (by name) with anything to show: the figures of `TeamRequests`.

    Counts come from one grouped query; the durations from the few columns of the
    requests picked up, resolved or opened in the period and of those open now, run
    through the SLA clock in Python. `partner_ids`, a select of partner ids, limits the
    figures to those partners' requests (the report's filters)."""
    clk, slas = clock(settings), team_slas(session=session)

    def scoped(query):
        return query.where(HelpRequest.partner_id.in_(partner_ids)) if partner_ids is not None else query

    def within(column):
        return and_(column >= start, column < end)

    picked = func.coalesce(HelpRequest.claimed_at, HelpRequest.resolved_at)
    counts = {team: (opened or 0, resolved or 0) for team, opened, resolved in session.execute(scoped(
        select(HelpRequest.team, func.sum(case((within(HelpRequest.created_at), 1), else_=0)),
               func.sum(case((within(HelpRequest.resolved_at), 1), else_=0)))
        .where(or_(within(HelpRequest.created_at), within(HelpRequest.resolved_at)))
        .group_by(HelpRequest.team)))}
    teams = set(counts)

    claims: dict[str, list[float]] = {}
    for team, created, at in session.execute(scoped(
            select(HelpRequest.team, HelpRequest.created_at, picked).where(within(picked)))):
        claims.setdefault(team, []).append(clk.hours(created, at))
    resolves: dict[str, list[float]] = {}
    for team, created, at in session.execute(scoped(
            select(HelpRequest.team, HelpRequest.created_at, HelpRequest.resolved_at).where(within(HelpRequest.resolved_at)))):
        resolves.setdefault(team, []).append(clk.hours(created, at))
    late: dict[str, int] = {}
    for team, created, at in session.execute(scoped(
            select(HelpRequest.team, HelpRequest.created_at, picked).where(within(HelpRequest.created_at)))):
        due = clk.due(created, sla_hours(team, slas=slas, settings=settings))
        if (at > due) if at is not None else (now >= due):
            late[team] = late.get(team, 0) + 1
    overdue: dict[str, list[tuple[datetime, int]]] = {}
    for request_id, team, created in session.execute(scoped(
            select(HelpRequest.id, HelpRequest.team, HelpRequest.created_at)
            .where(HelpRequest.status == RequestStatus.OPEN, HelpRequest.created_at <= now))):
        due = clk.due(created, sla_hours(team, slas=slas, settings=settings))
        if now >= due:
            overdue.setdefault(team, []).append((due, request_id))
    teams |= set(claims) | set(overdue)

    rows = []
    for team in sorted(teams):
        worst = sorted(overdue.get(team, []))
        rows.append(TeamRequests(
            team=team, sla_hours=sla_hours(team, slas=slas, settings=settings),
            opened=counts.get(team, (0, 0))[0], resolved=counts.get(team, (0, 0))[1],
            median_claim_hours=_median(claims.get(team)), median_resolve_hours=_median(resolves.get(team)),
            past_sla=late.get(team, 0), past_sla_now=tuple(i for _, i in worst),
            claim_hours=tuple(claims.get(team, ())), resolve_hours=tuple(resolves.get(team, ())),
            overdue_since=tuple(d for d, _ in worst)))
    return rows


def total(rows: list[TeamRequests]) -> TeamRequests:
    """All teams together: counts summed, medians over every team's durations, the
    overdue requests merged longest overdue first."""
    claims = tuple(h for r in rows for h in r.claim_hours)
    resolves = tuple(h for r in rows for h in r.resolve_hours)
    worst = sorted((d, i) for r in rows for d, i in zip(r.overdue_since, r.past_sla_now))
    return TeamRequests(
        team=None, sla_hours=None, opened=sum(r.opened for r in rows), resolved=sum(r.resolved for r in rows),
        median_claim_hours=_median(claims), median_resolve_hours=_median(resolves),
        past_sla=sum(r.past_sla for r in rows), past_sla_now=tuple(i for _, i in worst),
        claim_hours=claims, resolve_hours=resolves, overdue_since=tuple(d for d, _ in worst))


def _median(values) -> float | None:
    return statistics.median(values) if values else None
