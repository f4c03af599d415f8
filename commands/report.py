"""`/partner report [<quarter>] [owner:@user] [type:<type>] [tier:<tier>]`: the quarter's
numbers (storage/report.py computes them; `partnerbot report --csv` prints the same)."""

from __future__ import annotations

from views.report import report_blocks
from commands.context import Context, Reply
from commands.dates import period
from commands.errors import UserError
from commands.parser import Command, choice, shown, split_options, user_ref
from storage import report
from storage.models import PartnerType
from storage.periods import local_today, month_of, quarter_of

USAGE = "report [<quarter>] [owner:@user] [type:<type>] [tier:<tier>]"
DESCRIPTION = "the quarter's numbers: attainment vs pace by owner and type, funnel, cohorts, forecast"
READ_ONLY = True  # runs in a read-only unit of work: never waits for a writer


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    positional, options = split_options(cmd.tokens[index:], {"owner", "type", "tier"})
    if len(positional) > 1:
        raise UserError(f"{shown(positional[1].text)} is not understood: give one quarter like `2026-Q3`, then "
                        "`owner:`, `type:` or `tier:`.", usage=USAGE)
    fiscal_start = ctx.settings.fiscal_year_start
    current = quarter_of(month_of(local_today(ctx.now, ctx.settings.zone)), fiscal_start=fiscal_start)
    quarter = take_quarter(positional[0].text, current=current) if positional else current
    filters = report.Filters(
        owner_id=user_ref(options["owner"], "owner") if "owner" in options else None,
        type=choice(options["type"], [t.value for t in PartnerType], "partner type") if "type" in options else None,
        tier=options["tier"].text.strip() if "tier" in options else None,
    )
    _, start, _ = report.quarter_span(quarter, fiscal_start=fiscal_start, zone=ctx.settings.zone)
    if start > ctx.now:
        raise UserError(f"{quarter} has not started yet; this quarter is {current}.", usage=USAGE)
    found = report.build(ctx.session, quarter=quarter, now=ctx.now, settings=ctx.settings, filters=filters)
    text, blocks = report_blocks(found, zone=ctx.settings.zone, currency=ctx.settings.currency, share_text=cmd.raw)
    return Reply(text=text, blocks=blocks)


def take_quarter(text: str, *, current: str) -> str:
    """A quarter like `2026-Q3` (also `2026q3`, `Q3-2026`); a month or anything else is a mistake."""
    found = period(text)
    if "Q" not in found:
        raise UserError(f"`report` covers a quarter, not a month: type a quarter like `{current}`.", usage=USAGE)
    return found

