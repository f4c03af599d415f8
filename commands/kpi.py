"""`/partner kpi …` (actual values per month) and `/partner target …` (JBP targets)."""

from __future__ import annotations

from decimal import Decimal

from views.messages import confirmation
from views.text import metric_value
from views.text import escape
from commands.context import Context, Reply
from commands.errors import UserError
from commands.amounts import amount, examples
from commands.dates import period
from commands.parser import Command, choice, shown, split_options
from commands.permissions import require_owner_or_admin
from commands.refs import take_partner
from storage import audit, kpis
from storage.periods import local_today, month_of, quarter_months, quarter_of

KPI_USAGE = "kpi <partner> <revenue|leads|adoption|deals> <value> [period:YYYY-MM] [attribution:influenced]"
KPI_DESCRIPTION = "record a KPI actual for a month (values like 12,500 · 12.5k · $1.2M · 1.2 million · 45%)"
TARGET_USAGE = "target <partner> <revenue|leads|adoption|deals> <value> [period:YYYY-Qn|YYYY-MM]"
TARGET_DESCRIPTION = "set a joint business plan target (default: this quarter)"


FORMS = {"revenue": "money", "leads": "count", "deals": "count", "adoption": "percent"}


def metric_amount(metric: str, text: str, usage: str, currency: str) -> Decimal:
    # Only revenue is money: a currency mark on leads, deals or adoption is refused.
    # Errors suggest only the forms this metric takes (parser.examples).
    forms = examples(FORMS[metric], currency)
    value, percent = amount(text, what=f"{metric} value", currency=currency if metric == "revenue" else None, forms=forms)
    if metric == "adoption":
        if value > 100:
            raise UserError(f"Adoption is a percentage from 0 to 100, like {forms}.", usage=usage)
        return value
    if percent:
        raise UserError(f"{shown(text)} is a percentage; only adoption is measured in %. Write {metric} like {forms}.", usage=usage)
    if metric in ("leads", "deals") and value != value.to_integral_value():
        raise UserError(f"{metric.capitalize()} are counted in whole numbers, like {forms}.", usage=usage)
    return value


def change_text(metric: str, previous: Decimal | None, value: Decimal, currency: str) -> str:
    """The values a history line carries: `: 30 → 40`, or ` to 40` when it was unset."""
    new = metric_value(metric, value, currency)
    return f": {metric_value(metric, previous, currency)} → {new}" if previous is not None else f" to {new}"


def _parse(cmd: Command, index: int, ctx: Context, usage: str, options: set[str]):
    partner, index = take_partner(cmd, index, session=ctx.session, usage=usage)
    positional, opts = split_options(cmd.tokens[index:], options)
    if len(positional) < 2:
        raise UserError("Give a metric and a value after the partner.", usage=usage)
    metric = choice(positional[0], list(kpis.METRICS), "metric")
    # The value may be several words: `1.2 million`, `$ 50k`.
    value = metric_amount(metric, " ".join(t.text for t in positional[1:]), usage, ctx.settings.currency)
    return partner, metric, value, opts


class Kpi:
    USAGE, DESCRIPTION = KPI_USAGE, KPI_DESCRIPTION

    @staticmethod
    def run(cmd: Command, index: int, ctx: Context) -> Reply:
        partner, metric, value, opts = _parse(cmd, index, ctx, KPI_USAGE, {"period", "attribution"})
        month = period(opts["period"].text) if "period" in opts else month_of(local_today(ctx.now, ctx.settings.zone))
        if "Q" in month:
            # Suggest months of the quarter typed (quarters follow the fiscal year), not an unrelated one.
            months = quarter_months(month, fiscal_start=ctx.settings.fiscal_year_start)
            raise UserError(f"KPI values are per month (targets are per quarter, and a quarter adds its months up): "
                            f"use a month of {month}, like `period:{months[0]}`, `period:{months[1]}` or `period:{months[2]}`.",
                            usage=KPI_USAGE)
        attribution = choice(opts["attribution"], ["sourced", "influenced"], "attribution") if "attribution" in opts else "sourced"
        if attribution == "influenced" and metric not in ("revenue", "deals"):
            raise UserError("Only revenue and deals can be partner-influenced.", usage=KPI_USAGE)
        previous = kpis.set_kpi(session=ctx.session, partner_id=partner.id, metric=metric, month=month, value=value,
                                  user_id=ctx.caller.user_id, now=ctx.now, attribution=attribution)
        key = {"partner_id": partner.id, "metric": metric, "month": month, "source": "manual", "attribution": attribution}
        audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="kpi.set", summary=f"set {partner.name} {metric} {month}" + change_text(metric, previous, value, ctx.settings.currency),
                     undo={"key": key, "previous": previous}, now=ctx.now)
        currency = ctx.settings.currency
        shown_value = metric_value(metric, value, currency)
        replaced = f" (replaced {metric_value(metric, previous, currency)})" if previous is not None else ""
        label = f"{attribution} {metric}" if attribution == "influenced" else metric
        return Reply(
            text=f"{partner.name} {label} {month}: {shown_value}",
            blocks=confirmation(f"*{escape(partner.name)}* {label} for {month}: *{shown_value}*{replaced}."),
        )


class Target:
    USAGE, DESCRIPTION = TARGET_USAGE, TARGET_DESCRIPTION

    @staticmethod
    def run(cmd: Command, index: int, ctx: Context) -> Reply:
        partner, metric, value, opts = _parse(cmd, index, ctx, TARGET_USAGE, {"period"})
        require_owner_or_admin(partner, ctx, "set its targets")
        this_month = month_of(local_today(ctx.now, ctx.settings.zone))
        when = period(opts["period"].text) if "period" in opts else quarter_of(this_month, fiscal_start=ctx.settings.fiscal_year_start)
        previous = kpis.set_target(session=ctx.session, partner_id=partner.id, metric=metric, period=when, value=value,
                                     user_id=ctx.caller.user_id, now=ctx.now)
        audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="target.set", summary=f"set {partner.name} {metric} target {when}" + change_text(metric, previous, value, ctx.settings.currency),
                     undo={"key": {"partner_id": partner.id, "metric": metric, "period": when}, "previous": previous}, now=ctx.now)
        currency = ctx.settings.currency
        replaced = f" (was {metric_value(metric, previous, currency)})" if previous is not None else ""
        return Reply(
            text=f"{partner.name} {metric} target {when}: {metric_value(metric, value, currency)}",
            blocks=confirmation(f"*{escape(partner.name)}* {metric} target for {when}: *{metric_value(metric, value, currency)}*{replaced}."),
        )
