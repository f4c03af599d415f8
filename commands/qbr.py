"""`/partner qbr <partner> <date>` (schedule or move), `qbr <partner> cancel`,
`qbr <partner> done [<date>] [notes…]` (record one held, today or earlier),
`qbr <partner> brief` (the owner's internal pack before the review).

A partner has at most one upcoming QBR: scheduling again moves it, and its
reminder follows the new date."""

from __future__ import annotations

from datetime import date

from views.brief import brief as brief_blocks
from views.messages import confirmation
from views.text import cut, escape, plural
from commands.context import Context, Reply
from commands.errors import UserError
from commands.dates import take_date, try_date
from commands.parser import Command
from commands.refs import take_partner
from storage import audit, qbrs
from storage.brief import brief_data
from storage.models import Partner
from storage.periods import local_today

USAGE = ("qbr <partner> <YYYY-MM-DD|tomorrow|tuesday|in 2 weeks> | qbr <partner> cancel | qbr <partner> done [<YYYY-MM-DD>] [notes]"
         " | qbr <partner> brief")
DESCRIPTION = "schedule (or move) the partner's next QBR, cancel it, record one held, or get its brief"
MAX_NOTES = 3000


def shown_day(day: date, today: date) -> str:
    """"Thu Dec 10", with the year when it is not this year's."""
    return f"{day:%a %b} {day.day}" + (f" {day.year}" if day.year != today.year else "")


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    partner, index = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    today = local_today(ctx.now, ctx.settings.zone)
    if index >= len(cmd.tokens):
        return show(partner, today, ctx)
    word = cmd.tokens[index].word
    if word == "done":
        return done(cmd, index + 1, partner, today, ctx)
    if word == "cancel":
        return cancel(cmd, index + 1, partner, today, ctx)
    if word == "brief":
        return brief(cmd, index + 1, partner, ctx)
    return schedule(cmd, index, partner, today, ctx)


def show(partner: Partner, today: date, ctx: Context) -> Reply:
    scheduled = qbrs.scheduled_qbr(session=ctx.session, partner_id=partner.id)
    last = qbrs.last_qbr(session=ctx.session, partner_id=partner.id)
    if scheduled is None or scheduled.scheduled_for is None:
        upcoming = "not scheduled"
    elif scheduled.scheduled_for < today:
        upcoming = f"{shown_day(scheduled.scheduled_for, today)} (passed, not recorded as held)"
    else:
        upcoming = shown_day(scheduled.scheduled_for, today)
    held = shown_day(last.held_on, today) if last and last.held_on else "never"
    text = f"Next QBR: {upcoming} · last held: {held}"
    return Reply(text=text, blocks=confirmation(f"*{escape(partner.name)}* · {text}"))


def schedule(cmd: Command, index: int, partner: Partner, today: date, ctx: Context) -> Reply:
    day, after = take_date(cmd.tokens, index, today=today)
    if after < len(cmd.tokens):
        raise UserError("Give just the date after the partner.", usage=USAGE)
    if day < today:
        raise UserError(f"{day.isoformat()} is in the past. To record a QBR that happened, use "
                        f"`/partner qbr {escape(partner.name)} done {day.isoformat()}`.", usage=USAGE)
    qbr, moved_from = qbrs.schedule_qbr(session=ctx.session, partner_id=partner.id, day=day, user_id=ctx.caller.user_id, now=ctx.now)
    reminder = f"The owner gets a reminder {plural(ctx.settings.qbr_remind_days, 'day')} before."
    if moved_from is None:
        audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="qbr.add", summary=f"scheduled a QBR with {partner.name} for {day.isoformat()}",
                     undo={"qbr_id": qbr.id}, partner_id=partner.id, now=ctx.now)
        return Reply(
            text=f"QBR with {partner.name} on {day.isoformat()}.",
            blocks=confirmation(f"QBR with *{escape(partner.name)}* scheduled for *{day:%A %Y-%m-%d}*.", detail=reminder),
        )
    if moved_from == day:
        return Reply(text=f"The QBR with {partner.name} is already on {day.isoformat()}.",
                     blocks=confirmation(f"The QBR with *{escape(partner.name)}* is already scheduled for *{day:%A %Y-%m-%d}*."))
    was, now_on = shown_day(moved_from, today), shown_day(day, today)
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="qbr.move",
                 summary=f"moved the QBR with {partner.name} from {moved_from.isoformat()} to {day.isoformat()}",
                 undo={"qbr_id": qbr.id, "scheduled_for": moved_from}, partner_id=partner.id, now=ctx.now)
    return Reply(
        text=f"QBR with {partner.name} moved from {was} to {now_on}.",
        blocks=confirmation(f"QBR with *{escape(partner.name)}* moved from {was} to *{now_on}*.",
                            detail=f"{reminder} A partner has one upcoming QBR; `/partner qbr {escape(partner.name)} cancel` cancels it."),
    )


def cancel(cmd: Command, index: int, partner: Partner, today: date, ctx: Context) -> Reply:
    if index < len(cmd.tokens):
        raise UserError("`cancel` takes nothing after it: it cancels the partner's upcoming QBR.", usage=USAGE)
    qbr = qbrs.cancel_qbr(session=ctx.session, partner_id=partner.id, now=ctx.now)
    if qbr is None or qbr.scheduled_for is None:
        raise UserError(f"*{escape(partner.name)}* has no upcoming QBR to cancel. Schedule one with "
                        f"`/partner qbr {escape(partner.name)} &lt;date&gt;`.", usage=USAGE)
    day = shown_day(qbr.scheduled_for, today)
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="qbr.cancel", summary=f"cancelled the QBR with {partner.name} on {qbr.scheduled_for.isoformat()}",
                 undo={"qbr_id": qbr.id}, partner_id=partner.id, now=ctx.now)
    return Reply(text=f"Cancelled the QBR with {partner.name} on {day}.",
                 blocks=confirmation(f"Cancelled the QBR with *{escape(partner.name)}* on *{day}*."))


def brief(cmd: Command, index: int, partner: Partner, ctx: Context) -> Reply:
    """The internal QBR pack, for the caller alone (its Share button posts the partner's
    scorecard, never the brief)."""
    if index < len(cmd.tokens):
        raise UserError("`brief` takes nothing after it: it briefs you on the partner before its QBR.", usage=USAGE)
    data = brief_data(ctx.session, partner, now=ctx.now, settings=ctx.settings)
    text, blocks = brief_blocks(data, currency=ctx.settings.currency)
    return Reply(text=text, blocks=blocks)


def held_date(cmd: Command, index: int, today: date) -> tuple[date, int]:
    """An optional date right after `done` (default today) and the index after it."""
    day, after = try_date(cmd.tokens, index, today=today, past=True)  # `12/20`, `tuesday`: the last one
    return (day, after) if day is not None else (today, index)  # not a date: the notes start here


def done(cmd: Command, index: int, partner: Partner, today: date, ctx: Context) -> Reply:
    day, index = held_date(cmd, index, today)
    if day > today:
        raise UserError(f"{shown_day(day, today)} ({day.isoformat()}) is in the future: record a QBR once it is held. "
                        f"To plan one, use `/partner qbr {escape(partner.name)} {day.isoformat()}`.", usage=USAGE)
    notes = cmd.rest(index) or None
    if notes and len(notes) > MAX_NOTES:
        raise UserError(f"Keep QBR notes under {MAX_NOTES:,} characters.", usage=USAGE)
    # What was upcoming before, to say whether this fulfilled it.
    before = qbrs.scheduled_qbr(session=ctx.session, partner_id=partner.id)
    planned = before.scheduled_for if before else None
    qbr, created = qbrs.hold_qbr(session=ctx.session, partner_id=partner.id, today=day, notes=notes,
                                   user_id=ctx.caller.user_id, now=ctx.now)
    when = "today" if day == today else f"on {shown_day(day, today)}"  # the reply only; history keeps the date
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="qbr.held", summary=f"recorded a QBR with {partner.name} held {day.isoformat()}",
                 undo={"qbr_id": qbr.id, "created": created}, partner_id=partner.id, now=ctx.now)
    if not created and planned is not None:
        outcome = f"It fulfils the QBR planned for {shown_day(planned, today)}."
    elif planned is not None:
        outcome = (f"The QBR planned for {shown_day(planned, today)} stays scheduled; "
                   f"`/partner qbr {escape(partner.name)} cancel` if this was it.")
    else:
        outcome = None
    detail = "\n".join(x for x in (escape(cut(notes, 500)) if notes else None, outcome) if x) or None
    heading = "today's QBR" if day == today else f"the QBR held on {day:%A %Y-%m-%d}"
    return Reply(text=f"QBR with {partner.name} recorded ({day.isoformat()}).",
                 blocks=confirmation(f"Recorded {heading} with *{escape(partner.name)}*.", detail=detail))
