"""Block Kit for the partner-facing scorecard: what goes into a partner's Slack Connect
channel or to its people. Built only from storage/scorecard.py's ScorecardData, which
holds nothing a partner may not see."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from views.text import MAX_BLOCKS, context, cut, day, escape, header, lines_section, metric_value, money, section
from storage.kpis import Attainment
from storage.scorecard import ScorecardData, ScorecardDeal, ScorecardRequest


def pace_line(a: Attainment, currency: str) -> str | None:
    """"*revenue* $12K of $30K — 40%, pace 62%: behind"; a level (adoption) has no pace;
    None for a metric with neither a value nor a target."""
    actual = metric_value(a.metric, a.actual, currency)
    if not a.target:
        return f"*{a.metric}* {actual} · no target" if a.actual else None
    ratio = a.ratio or 0.0
    scope = f" for {', '.join(a.months)}" if a.months else ""
    line = f"*{a.metric}* {actual} of {metric_value(a.metric, a.target, currency)}{scope} — {ratio:.0%}"
    if a.elapsed is None:
        return line
    verdict = "target reached" if ratio >= 1 else "on pace" if ratio >= a.elapsed else "behind"
    return f"{line}, pace {a.elapsed:.0%}: {verdict}"


def shown_date(value: date) -> str:
    return f"{value:%a %b} {value.day} {value.year}"


def scorecard(data: ScorecardData, *, zone: ZoneInfo, currency: str) -> tuple[str, list[dict[str, Any]]]:
    """The scorecard's fallback text (plain words, escaped by whoever sends it) and blocks."""
    title = f"{data.partner_name} · scorecard · {data.quarter}"
    blocks: list[dict[str, Any]] = [header(cut(title, 150))]
    blocks.append(context(f"{data.quarter} is {data.elapsed:.0%} through."))
    for name in data.fields:
        blocks += SECTIONS[name](data, zone, currency)
    return title, blocks[:MAX_BLOCKS]


def _kpis(data: ScorecardData, zone: ZoneInfo, currency: str) -> list[dict[str, Any]]:
    lines = [line for a in data.kpis if (line := pace_line(a, currency))]
    if not lines:
        return [section(f"*Our joint plan, {data.quarter}*\nNo figures for this quarter yet.")]
    return lines_section([f"*Our joint plan, {data.quarter}*", *(f"• {line}" for line in lines)])


def _deal(d: ScorecardDeal, zone: ZoneInfo, currency: str) -> str:
    status = f"{d.status}: {escape(cut(d.reason, 300))}" if d.reason else d.status
    close = f" · expected close {d.expected_close.isoformat()}" if d.expected_close else ""
    return f"• *{escape(d.customer)}* · {money(d.amount, currency)} · {status}{close} · registered {day(d.registered_at, zone)}"


def _deals(data: ScorecardData, zone: ZoneInfo, currency: str) -> list[dict[str, Any]]:
    if not data.deals:
        return [section("*Deal registrations*\nNone this quarter, and none awaiting a decision.")]
    lines = [_deal(d, zone, currency) for d in data.deals]
    if data.more_deals:
        lines.append(f"… and {data.more_deals:,} earlier")
    return lines_section(["*Deal registrations* (this quarter, and any awaiting a decision)", *lines])


def _qbr(data: ScorecardData, zone: ZoneInfo, currency: str) -> list[dict[str, Any]]:
    when = shown_date(data.next_qbr) if data.next_qbr else "not scheduled yet"
    return [section(f"*Next business review*\n{when}")]


def _request(r: ScorecardRequest, zone: ZoneInfo) -> str:
    done = f" {day(r.resolved_at, zone)}" if r.resolved_at else ""
    return f"• {escape(r.category)} · {r.status}{done} · asked {day(r.asked_at, zone)}"


def _requests(data: ScorecardData, zone: ZoneInfo, currency: str) -> list[dict[str, Any]]:
    if not data.requests:
        return [section("*Your requests*\nNone open, and none resolved in the last 30 days.")]
    lines = [_request(r, zone) for r in data.requests]
    if data.more_requests:
        lines.append(f"… and {data.more_requests:,} earlier")
    return lines_section(["*Your requests* (open, and resolved in the last 30 days)", *lines])


SECTIONS = {"kpis": _kpis, "deals": _deals, "qbr": _qbr, "requests": _requests}
