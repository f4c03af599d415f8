"""Calendar logic: months and fiscal quarters (`PARTNERBOT_FISCAL_YEAR_START`).

A fiscal year is named by the calendar year it starts in: with a February
start, `2026-Q1` is February–April 2026 and `2026-Q4` is November 2026–January 2027.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_of(month: str, *, fiscal_start: int = 1) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    fiscal_year = year if mon >= fiscal_start else year - 1
    return f"{fiscal_year}-Q{(mon - fiscal_start) % 12 // 3 + 1}"


def quarter_months(quarter: str, *, fiscal_start: int = 1) -> list[str]:
    year, q = int(quarter[:4]), int(quarter[-1])
    first = fiscal_start - 1 + (q - 1) * 3  # months since January of `year`, 0-based
    return [f"{year + (first + i) // 12:04d}-{(first + i) % 12 + 1:02d}" for i in range(3)]


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def month_bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a month in the team's time zone, as aware datetimes."""
    year, mon = int(month[:4]), int(month[5:7])
    start = datetime.combine(date(year, mon, 1), time(), zone)
    nxt = date(year + mon // 12, mon % 12 + 1, 1)
    return start, datetime.combine(nxt, time(), zone)


def days_between(earlier: datetime, later: datetime) -> int:
    return max((later - earlier) // timedelta(days=1), 0)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
