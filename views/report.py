"""`/partner report`: the quarter in one ephemeral message (attainment vs pace, by owner and
type, the funnel, onboarding cohorts, the forecast, requests per team), within Block Kit's
limits whatever the number of owners; long lists worst first with a count of the rest."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from views.partner_card import share_actions
from views.text import MAX_BLOCKS, context, divider, escape, header, lines_section, metric_value, money, plural, user
from storage.kpis import LEVELS, METRICS
from storage.report import Conversion, Figure, GroupAttainment, Report
from storage.sla import TeamRequests

ROWS_SHOWN = 10  # owners listed before "… and N more"
FUNNEL_METHOD = ("Stages at the quarter's end (now, for this one), rebuilt from each partner's stage change time and "
                 "the audit trail; conversion = of the partners in a stage at the quarter's start or added in it, the "
                 "share past it at the end (at-risk counts as active, churned never).")
COHORT_METHOD = ("First deal = the earliest registration registered or approved; each share counts only partners old "
                 "enough; medians over the partners that got there; onboarding complete = every step of its type done.")
FORECAST_METHOD = ("Forecast = sourced revenue so far + open sourced registrations (registered, under review, in "
                   "conflict) closing this quarter (expected close, else registered in it), each × its partner's "
                   "approve rate (approved ÷ decided; the workspace's when it has none).")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _expected(metric: str, pace: float) -> float:
    """Where a metric should be by now: the pace, or all of it for a level (adoption)."""
    return 1.0 if metric in LEVELS else pace


def _judged(figure: Figure, pace: float, currency: str) -> str:
    """"revenue $1.5K of $10K — 15 %, pace 50 %: behind" (a level: of its target, no pace)."""
    m = figure.metric
    if figure.target is None:
        return f"{m} {metric_value(m, figure.sourced, currency)} (no target)"
    ratio, expected = figure.ratio or 0.0, _expected(m, pace)
    verdict = "on pace" if ratio >= expected else "behind"
    pace_text = "" if m in LEVELS else f", pace {_pct(pace)}"
    return (f"{m} {metric_value(m, figure.attained, currency)} of {metric_value(m, figure.target, currency)} — "
            f"{_pct(ratio)}{pace_text}: *{verdict}*")


def _kpi_lines(total: GroupAttainment, pace: float, currency: str) -> list[str]:
    lines = []
    for m in METRICS:
        f = total.figures[m]
        influenced = f" · influenced {metric_value(m, f.influenced, currency)}" if f.influenced_count else ""
        shown = _judged(f, pace, currency)
        if f.target is not None and f.sourced_sum != f.attained_sum:
            shown += f" · {metric_value(m, f.sourced, currency)} sourced in all"
        lines.append(f"• {shown}{influenced}")
    return lines


def _gap(row: GroupAttainment, pace: float) -> float:
    """How far the row's worst KPI with a target is behind where it should be (worst first)."""
    gaps = [f.ratio - _expected(m, pace) for m, f in row.figures.items() if f.ratio is not None]
    return min(gaps) if gaps else float("inf")


def _row_line(name: str, row: GroupAttainment, pace: float, currency: str) -> str:
    judged = [f"{m} {_pct(f.ratio)}" for m, f in row.figures.items() if f.ratio is not None]
    revenue = row.figures["revenue"]
    parts = [name, plural(row.partners, "partner"), f"revenue {money(revenue.sourced, currency)}"]
    if revenue.influenced_count:
        parts.append(f"influenced {money(revenue.influenced, currency)}")
    parts.append(("of target: " + ", ".join(judged)) if judged else "no targets")
    return "• " + " · ".join(parts)


def _rows(title: str, rows: list[GroupAttainment], pace: float, currency: str, name) -> list[dict[str, Any]]:
    if not rows:
        return []
    ordered = sorted(rows, key=lambda r: (_gap(r, pace), r.key is None, r.key or ""))
    lines = [f"*{title}* (worst first)"] + [_row_line(name(r.key), r, pace, currency) for r in ordered[:ROWS_SHOWN]]
    blocks = lines_section(lines)
    if len(ordered) > ROWS_SHOWN:
        blocks.append(context(f"… and {len(ordered) - ROWS_SHOWN:,} more; all of them: `partnerbot report --csv`"))
    return blocks


def _conversion(now: Conversion, before: Conversion) -> str:
    def one(c: Conversion) -> str:
        return f"{_pct(c.rate)} ({c.moved_on:,} of {c.entered:,})"

    return f"• {now.stage} → {now.next}: {one(now)}, last quarter {one(before)}"


def _funnel(report: Report) -> list[dict[str, Any]]:
    now, before = report.funnel, report.funnel_before
    counts = " · ".join(f"{stage} {now.counts[stage]:,} ({before.counts[stage]:,})" for stage in now.counts)
    lines = [f"*Funnel* (in brackets: end of {before.quarter})", counts,
             *(_conversion(a, b) for a, b in zip(now.conversions, before.conversions))]
    return [*lines_section(lines), context(FUNNEL_METHOD)]


def _days(value: float | None) -> str:
    return "—" if value is None else plural(round(value), "day")


def _share(part: int, whole: int) -> str:
    return f"{_pct(part / whole)} ({part:,} of {whole:,})" if whole else "— (none old enough)"


def _cohorts(report: Report) -> list[dict[str, Any]]:
    lines = ["*Onboarding cohorts* (partners added per quarter)"]
    for c in reversed(report.cohorts):
        if not c.added:
            lines.append(f"• {c.quarter}: none added")
            continue
        lines.append(
            f"• {c.quarter}: {plural(c.added, 'partner')} added · first deal within 90 days {_share(c.deal_90, c.aged_90)}, "
            f"within 180 days {_share(c.deal_180, c.aged_180)} · median to first deal {_days(c.median_days_to_deal)} "
            f"({c.with_deal:,} with one) · onboarding complete {c.completed:,}, median {_days(c.median_days_to_complete)}")
    return [*lines_section(lines), context(COHORT_METHOD)]


def _forecast(report: Report, currency: str) -> list[dict[str, Any]]:
    f = report.forecast
    against = (f"of {money(f.target, currency)} target ({_pct(f.ratio)})" if f.target is not None else "(no revenue target)")
    detail = (f"{money(f.so_far, currency)} so far + {money(f.weighted, currency)} weighted from "
              f"{money(f.pipeline, currency)} open in {plural(f.deals, 'registration')}")
    if report.as_of >= report.quarter_end:
        detail = f"the quarter is over: {money(f.so_far, currency)} booked"
    return [*lines_section([f"*Forecast*: {money(f.total, currency)} {against}", detail]), context(FORECAST_METHOD)]


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


def _team_line(t: TeamRequests, *, ongoing: bool) -> str:
    name = "All teams" if t.team is None else f"*{escape(t.team)}*"
    sla = f" (SLA {t.sla_hours} h)" if t.sla_hours else ""
    late = f"past SLA {_pct(t.past_sla_pct / 100 if t.past_sla_pct is not None else None)} ({t.past_sla:,} of {t.opened:,})"
    now = f" · {len(t.past_sla_now):,} waiting past SLA now" if ongoing and t.past_sla_now else ""
    return (f"• {name}{sla}: {t.opened:,} opened, {t.resolved:,} resolved · median to claim {_hours(t.median_claim_hours)}, "
            f"to resolve {_hours(t.median_resolve_hours)} · {late}{now}")


def _requests(report: Report) -> list[dict[str, Any]]:
    if not report.requests:
        return lines_section(["*Requests*: none this quarter"])
    ongoing = report.as_of < report.quarter_end
    teams = sorted(report.requests, key=lambda t: (-(t.past_sla_pct or 0), -t.opened, t.team or ""))
    lines = ["*Requests per team* (worst first; SLA hours on the business clock)",
             *(_team_line(t, ongoing=ongoing) for t in teams[:ROWS_SHOWN])]
    if len(teams) > 1:
        lines.append(_team_line(report.requests_total, ongoing=ongoing))
    blocks = lines_section(lines)
    if len(teams) > ROWS_SHOWN:
        blocks.append(context(f"… and {len(teams) - ROWS_SHOWN:,} more teams; all of them: `partnerbot report --csv`"))
    return blocks


def _filters(report: Report) -> str:
    given = report.filters
    parts = ([f"owner {user(given.owner_id)}"] if given.owner_id else []) + ([f"type {given.type}"] if given.type else [])
    return ", ".join(parts + ([f"tier {escape(given.tier)}"] if given.tier else []))


def report_blocks(report: Report, *, zone: ZoneInfo, currency: str, share_text: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The report's fallback text and blocks (at most 50)."""
    pace = report.attainment.pace
    total = report.attainment.total
    scope = _filters(report)
    when = report.as_of.astimezone(zone).strftime("%Y-%m-%d")
    blocks: list[dict[str, Any]] = [
        header(f"Partner report {report.quarter}"),
        context(f"As of {when} · {_pct(pace)} of the quarter gone (the pace) · {plural(total.partners, 'partner')}"
                + (f" · {scope}" if scope else "")),
        *lines_section(["*Attainment vs pace* (sourced; partners with a target)", *_kpi_lines(total, pace, currency)]),
        *_rows("By owner", report.attainment.rows, pace, currency, lambda key: user(key)),
        *_rows("By type", report.by_type.rows, pace, currency, lambda key: escape(key or "—")),
        divider(), *_funnel(report),
        divider(), *_cohorts(report),
        divider(), *_forecast(report, currency),
        divider(), *_requests(report),
    ]
    if share_text:
        blocks.append(share_actions(share_text))
    text = f"Partner report {report.quarter}: revenue {money(total.figures['revenue'].sourced, currency)}, pace {_pct(pace)}"
    return text, blocks[:MAX_BLOCKS]
