"""The Monday digest: one screen answering "are we on pace, who is behind, what is stuck,
what needs me" (storage/digest_figures.py computes it; this lays it out within Slack's
limits). Long lists are worst first, cut at storage.digest_figures.SHOWN, with the rest
counted and the command that lists them all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from storage.digest_figures import BEHIND_BY, Digest, MetricFigures, Named, OwnerFigures, Waiting
from storage.health import stored
from storage.health_rule import QUIET_DAYS
from storage.kpis import LEVELS
from storage.models import Partner
from views.text import MAX_BLOCKS, context, escape, header, lines_section, metric_value, money, percent, plural, section, user

ORDER = ("revenue", "leads", "deals", "adoption")
OWNERS_SHOWN = 30  # one line per partner manager: every row of most teams, within one message
AT_RISK_SHOWN = 15


def nothing_to_report(d: Digest) -> bool:
    """A quiet week: the digest says so in one line, and the job posts no chart."""
    return (not any(f.sourced or f.influenced for f in d.kpis) and not any(d.activity.values()) and not d.at_risk
            and not d.upcoming and not d.movement.anything and not d.pipeline.waiting_total
            and not any(r.past_sla_now for r in d.requests))


def digest(d: Digest, *, currency: str, admins: list[str]) -> tuple[str, list[dict[str, Any]]]:
    week = d.week.label
    if nothing_to_report(d):
        return (f"Partner digest {week}: nothing to report this week.",
                [section(f":bar_chart: *Partner digest {week}*: nothing to report this week.")])
    blocks: list[dict[str, Any]] = [header(f"Partner digest · week {week}")]
    blocks += lines_section([f"*Quarter to date ({d.week.quarter}, {d.week.pace:.0%} of it gone) vs joint business plans*",
                             *(_metric_line(f, currency) for f in sorted(d.kpis, key=lambda f: ORDER.index(f.metric))
                               if f.sourced or f.influenced or f.target or f.week_ago or f.last_quarter)])
    blocks += _owners(d)
    blocks += _stuck(d, currency=currency, admins=admins)
    blocks += _movement(d, currency=currency)
    blocks.append(section(
        f"*This week*: {plural(d.activity.get('interactions', 0), 'interaction')} logged · "
        f"{plural(d.activity.get('deals', 0), 'deal')} registered · "
        f"{plural(d.activity.get('requests_opened', 0), 'request')} opened, {d.activity.get('requests_resolved', 0):,} resolved"))
    blocks += _requests(d)
    if d.top:
        blocks += lines_section(["*Top partners by revenue (QTD)*"]
                                + [f"{i}. *{escape(n)}* {metric_value('revenue', v, currency)}" for i, (n, v) in enumerate(d.top, 1)])
    if d.upcoming:
        lines = [f"• {q.scheduled_for:%a %b %d} *{escape(p.name)}* (owner {user(p.owner_id)})" for q, p in d.upcoming[:10]]
        extra = [f"… and {len(d.upcoming) - 10:,} more: `/partner status` shows each owner's next QBRs"] if len(d.upcoming) > 10 else []
        blocks += lines_section(["*QBRs in the next 7 days*", *lines, *extra])
    blocks.append(context("Chart of attainment vs pace in the thread · every figure by owner and type, filtered as you like: `/partner report`"))
    return _fallback(d, currency), blocks[:MAX_BLOCKS]


def _fallback(d: Digest, currency: str) -> str:
    """The notification text: the week and the headline figure."""
    revenue = next((f for f in d.kpis if f.metric == "revenue"), None)
    if revenue is None or not revenue.target:
        return f"Partner digest {d.week.label}"
    return (f"Partner digest {d.week.label}: revenue {metric_value('revenue', revenue.attained or 0, currency)} of "
            f"{metric_value('revenue', revenue.target, currency)} ({revenue.ratio:.0%}), pace {d.week.pace:.0%}")


def _change(metric: str, delta: Decimal, currency: str) -> str:
    sign = "+" if delta >= 0 else "−"
    if metric in LEVELS:
        return f"{sign}{percent(abs(delta)).removesuffix('%')} pts"
    return f"{sign}{metric_value(metric, abs(delta), currency)}"


def _metric_line(f: MetricFigures, currency: str) -> str:
    """A KPI: quarter to date, against target and pace, influenced apart, and its change
    on the week and against the same point last quarter (both from the KPI history)."""
    label = "adoption (avg)" if f.metric == "adoption" else f.metric
    shown = metric_value(f.metric, f.sourced, currency)
    parts = [f"• *{label}* {shown}"]
    if f.target and f.attained is not None:
        target = metric_value(f.metric, f.target, currency)
        # Attainment as on the cards (storage.kpis.judge): over partners with a target, and only
        # the months their month targets cover; said apart when it differs from the total.
        if f.attained == f.sourced:
            parts[0] += f" of {target} ({f.ratio:.0%})"
        else:
            parts[0] += f" · {metric_value(f.metric, f.attained, currency)} of {target} target ({f.ratio:.0%})"
        standing = f.standing
        mark = f"*{standing}*" if standing == "behind" else standing
        parts.append(f"pace {f.pace:.0%}: {mark}" if f.pace is not None else mark)
    else:
        parts.append("no target")
    if f.influenced:
        parts.append(f"influenced {metric_value(f.metric, f.influenced, currency)}")
    parts.append(f"{_change(f.metric, f.sourced - f.week_ago, currency)} on the week")
    vs = f"same week last quarter {metric_value(f.metric, f.last_quarter, currency)}"
    if f.last_quarter and f.metric not in LEVELS:
        ratio = float((f.sourced - f.last_quarter) / f.last_quarter)
        vs += f" ({'+' if ratio >= 0 else '−'}{abs(ratio):.0%})"
    parts.append(vs)
    return " · ".join(parts)


def _owner_line(o: OwnerFigures, pace: float) -> str:
    judged = [f"{m} {f.ratio:.0%}" for m in ORDER if (f := o.figures.get(m)) is not None and f.ratio is not None]
    attainment = f"{', '.join(judged)} of target (pace {pace:.0%})" if judged else "no targets"
    if o.shortfall(pace) >= BEHIND_BY:
        attainment += ": *behind*"
    line = f"• {user(o.owner_id)} · {plural(o.partners, 'partner')} · {attainment}"
    if o.at_risk:
        line += f" · {o.at_risk:,} at risk"
    if o.overdue_qbrs:
        line += f" · {o.overdue_qbrs:,} QBR{'s' if o.overdue_qbrs > 1 else ''} overdue"
    return line


def _owners(d: Digest) -> list[dict[str, Any]]:
    if not d.owners:
        return []
    lines = ["*By owner*, furthest behind pace first", *(_owner_line(o, d.week.pace) for o in d.owners[:OWNERS_SHOWN])]
    if len(d.owners) > OWNERS_SHOWN:
        lines.append(f"… and {plural(len(d.owners) - OWNERS_SHOWN, 'more owner')}: `/partner report` has every owner's row")
    return lines_section(lines)


def _rest(shown: int, total: int, where: str) -> list[str]:
    return [f"… and {total - shown:,} more: {where}"] if total > shown else []


def _more(shown: int, total: int, where: str) -> str:
    """The same, at the end of a line of names."""
    return "".join(f" {rest}" for rest in _rest(shown, total, where))


def _waiting_line(w: Waiting, currency: str, zone_day: str) -> str:
    who = "an admin decides" if w.conflict else f"{user(w.owner_id)} decides"
    what = "conflict" if w.conflict else "submitted by the partner"
    return (f"• *{escape(w.partner)}* · {escape(w.customer)} {money(w.amount, currency)} · {what} since {zone_day} · {who}")


def _stuck(d: Digest, *, currency: str, admins: list[str]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    p = d.pipeline
    if p.waiting_total:
        reviews = p.waiting_total - p.conflicts
        deciders = ", ".join(user(a) for a in admins) if admins else "admins (set PARTNERBOT_ADMINS)"
        lines = [f":scales: *Deals waiting for a decision ({p.waiting_total:,})*, oldest first: "
                 f"{plural(p.conflicts, 'conflict')} for {deciders} · {plural(reviews, 'partner submission')} for their owners",
                 *(_waiting_line(w, currency, f"{w.registered_at.astimezone(d.week.start.tzinfo):%b %d}") for w in p.waiting),
                 *_rest(len(p.waiting), p.waiting_total, "`/partner status &lt;partner&gt;` lists a partner's open deals")]
        blocks += lines_section(lines)
    m = d.movement
    if m.stalled_total:
        lines = [f":construction: *Stalled onboarding ({m.stalled_total:,})*, longest first",
                 *(f"• *{escape(n.name)}* · {plural(n.days, 'day')} on *{escape(n.detail or '—')}* · {user(n.owner_id)}"
                   for n in m.stalled),
                 *_rest(len(m.stalled), m.stalled_total, "`/partner list stage:onboarding`")]
        blocks += lines_section(lines)
    if d.at_risk:
        shown = d.at_risk[:AT_RISK_SHOWN]
        lines = [f":warning: *At risk ({len(d.at_risk):,})*, worst first",
                 *(f"• *{escape(partner.name)}* {_health(partner)} · {user(partner.owner_id)}" for partner in shown),
                 *_rest(len(shown), len(d.at_risk), "each owner's `/partner status` lists theirs worst first")]
        blocks += lines_section(lines)
    return blocks


def _health(p: Partner) -> str:
    """The stored score, as the card, portfolio, list and App Home show it."""
    h = stored(p)
    return f"({h.label})" if h.score is None else f"({h.score}/100)"


def _names(rows: list[Named], *, owners: bool = False) -> str:
    return ", ".join(f"*{escape(n.name)}*" + (f" ({user(n.owner_id)})" if owners else "") for n in rows)


def _movement(d: Digest, *, currency: str) -> list[dict[str, Any]]:
    m, p = d.movement, d.pipeline
    lines = [f"*Pipeline*: {plural(p.registered, 'deal')} registered this week ({money(p.registered_value, currency)}) · "
             f"{money(p.holding_value, currency)} registered and open ({plural(p.holding, 'deal')} holding their customer, "
             f"registered in the last 90 days)"]
    if m.stage_changes:
        moved = ", ".join(f"{count:,} to {stage}" for stage, count in sorted(m.stage_changes.items(), key=lambda kv: -kv[1]))
        lines.append(f"*Stage changes*: {moved}")
    if m.new_total:
        lines.append(f"*New partners ({m.new_total:,})*: {_names(m.new)}" + _more(len(m.new), m.new_total, "`/partner list`"))
    if m.onboarded_total:
        lines.append(f"*Onboarding completed ({m.onboarded_total:,})*: {_names(m.onboarded)}"
                     + _more(len(m.onboarded), m.onboarded_total, "`/partner list stage:active`"))
    if m.quiet_total:
        lines.append(f"*Gone quiet ({m.quiet_total:,})*, no interaction nor partner message in {QUIET_DAYS} days: "
                     f"{_names(m.quiet, owners=True)}"
                     + _more(len(m.quiet), m.quiet_total, "each owner's `/partner status` shows when each was last touched"))
    return lines_section(lines)


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h" if value < 10 else f"{value:,.0f} h"


def _requests(d: Digest) -> list[dict[str, Any]]:
    if not d.requests:
        return []
    lines = ["*Requests by team* (business hours)"]
    for r in d.requests:
        line = f"• *{escape(r.team or '')}* (SLA {r.sla_hours} h) · {r.opened:,} opened, {r.resolved:,} resolved"
        if r.median_claim_hours is not None or r.median_resolve_hours is not None:
            line += f" · median {_hours(r.median_claim_hours)} to claim, {_hours(r.median_resolve_hours)} to resolve"
        if r.past_sla_now:
            ids = ", ".join(f"#{i}" for i in r.past_sla_now[:5])
            line += f" · *{len(r.past_sla_now):,} past SLA now* ({ids}{', …' if len(r.past_sla_now) > 5 else ''})"
        lines.append(line)
    if any(r.past_sla_now for r in d.requests):
        lines.append("Unclaimed requests, oldest first: `/partner requests unclaimed`")
    return lines_section(lines)
