"""`/partner qbr <partner> <date>` / `/partner qbr <partner> done [notes…]`"""

from __future__ import annotations

from bot.views.messages import confirmation
from bot.views.text import cut, escape
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, take_date
from commands.refs import take_partner
from storage import audit, record
from storage.periods import local_today

USAGE = "qbr <partner> <YYYY-MM-DD|tomorrow|tuesday|in 2 weeks> | qbr <partner> done [notes]"
DESCRIPTION = "schedule a quarterly business review, or record one held"
MAX_NOTES = 3000


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    partner, index = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    today = local_today(ctx.now, ctx.settings.zone)
    if index >= len(cmd.tokens):
        nxt = record.next_qbr(session=ctx.session, partner_id=partner.id, today=today)
        last = record.last_qbr(session=ctx.session, partner_id=partner.id)
        text = (f"Next QBR: {nxt.scheduled_for.isoformat() if nxt and nxt.scheduled_for else 'not scheduled'} · "
                f"last held: {last.held_on.isoformat() if last and last.held_on else 'never'}")
        return Reply(text=text, blocks=confirmation(f"*{escape(partner.name)}* · {text}"))
    if cmd.tokens[index].word == "done":
        notes = cmd.rest(index + 1) or None
        if notes and len(notes) > MAX_NOTES:
            raise UserError(f"Keep QBR notes under {MAX_NOTES:,} characters.", usage=USAGE)
        qbr, created = record.hold_qbr(session=ctx.session, partner_id=partner.id, today=today, notes=notes,
                                       user_id=ctx.caller.user_id, now=ctx.now)
        audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="qbr.held", summary=f"recorded a QBR with {partner.name}",
                     undo={"qbr_id": qbr.id, "created": created}, now=ctx.now)
        detail = escape(cut(notes, 500)) if notes else None
        return Reply(text=f"QBR with {partner.name} recorded.", blocks=confirmation(f"Recorded today's QBR with *{escape(partner.name)}*.", detail=detail))
    day, after = take_date(cmd.tokens, index, today=today)
    if after < len(cmd.tokens):
        raise UserError("Give just the date after the partner.", usage=USAGE)
    if day < today:
        raise UserError(f"{day.isoformat()} is in the past. To record a QBR that happened, use `/partner qbr {escape(partner.name)} done`.", usage=USAGE)
    qbr = record.schedule_qbr(session=ctx.session, partner_id=partner.id, day=day, user_id=ctx.caller.user_id, now=ctx.now)
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="qbr.add", summary=f"scheduled a QBR with {partner.name}",
                 undo={"qbr_id": qbr.id}, now=ctx.now)
    return Reply(
        text=f"QBR with {partner.name} on {day.isoformat()}.",
        blocks=confirmation(f"QBR with *{escape(partner.name)}* scheduled for *{day:%A %Y-%m-%d}*.",
                            detail=f"The owner gets a reminder {ctx.settings.qbr_remind_days} days before."),
    )
