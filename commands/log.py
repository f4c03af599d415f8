"""`/partner log <partner> [<kind>] <summary…>`"""

from __future__ import annotations

import difflib
from datetime import date

from views.messages import confirmation
from views.text import a, article, cut, escape
from views.log_form import LogForm
from views.partner_card import health_badge
from commands.context import Context, Reply
from commands.errors import UserError
from commands.dates import take_date
from commands.parser import Command, ParseError, shown, slack_to_text, typed_text
from commands.refs import take_partner
from storage import audit, interactions, partners
from storage.health import current as current_health
from storage.models import InteractionKind
from storage.periods import local_today

USAGE = "log <partner> [call|meeting|email|note|training|demo] <summary> [next:<date>]"
DESCRIPTION = "record a call, meeting, email, training, demo or note"
KINDS = [k.value for k in InteractionKind]
MAX_SUMMARY = 3000


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    partner, index = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    kind, defaulted = "note", True
    if index < len(cmd.tokens) and not cmd.tokens[index].quoted:
        word = cmd.tokens[index].word
        if word in KINDS:
            kind, defaulted = word, False
            index += 1
        else:
            near = [k for k in difflib.get_close_matches(word, KINDS, n=1, cutoff=0.75) if len(word) <= len(k) + 1]
            if near:
                raise UserError(
                    f"{shown(word)} is not a kind of interaction. Did you mean `{near[0]}`?", usage=USAGE
                )
    follow_up, summary = _follow_up(cmd, index, ctx)
    if not summary:
        raise UserError(f"Say what happened, e.g. `/partner log {escape(partner.name)} call discussed Q3 plan`.", usage=USAGE)
    if len(summary) > MAX_SUMMARY:
        raise UserError(f"Keep the summary under {MAX_SUMMARY:,} characters.", usage=USAGE)
    interaction = partners.add_interaction(
        session=ctx.session,
        partner=partner,
        kind=kind,
        summary=summary,
        author_id=ctx.caller.user_id,
        channel_id=ctx.caller.channel_id,
        now=ctx.now,
    )
    interaction.follow_up_on = follow_up
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="interaction.add",
                 summary=f"logged {a(kind)} with {partner.name}", undo={"interaction_id": interaction.id}, now=ctx.now)
    note = " (no kind given, so logged as a note)" if defaulted else ""
    if follow_up:
        note += f"; the owner gets a reminder on {follow_up:%a %Y-%m-%d}"
    health = current_health(ctx.session, partner)  # the stored score, already moved by this interaction
    return Reply(
        text=f"Logged {a(kind)} with {partner.name}.",
        blocks=confirmation(f"Logged {article(kind)} *{kind}* with *{escape(partner.name)}*{note}. "
                            f"Health now {health_badge(health)}.", detail=escape(cut(summary, 500))),
    )


def _follow_up(cmd: Command, index: int, ctx: Context) -> tuple[date | None, str]:
    """The `next:<date>` option, wherever it stands in the summary, and the summary without it.
    The date may run on into the next words (`next:in 2 weeks`) like a date anywhere else."""
    tokens = cmd.tokens
    at = [i for i in range(index, len(tokens)) if (pair := tokens[i].key_value()) and pair[0] == "next"]
    if not at:
        return None, cmd.rest(index)
    if len(at) > 1:
        raise ParseError("`next:` is given twice; give one follow-up date.")
    i = at[0]
    value = tokens[i].key_value()[1]  # type: ignore[index]
    if not value.raw:
        raise ParseError("`next:` needs a date right after the colon, like `next:friday`.")
    today = local_today(ctx.now, ctx.settings.zone)
    day, used = take_date([value, *tokens[i + 1 : i + 3]], 0, today=today, option="next:")
    if day < today:
        raise ParseError(f"The follow-up date `next:` ({day.isoformat()}) is in the past.")
    end = tokens[i + used - 1].end
    start = tokens[index].start if index < len(tokens) else len(cmd.raw)
    before, after = cmd.raw[start : tokens[i].start].rstrip(), cmd.raw[end:].lstrip()
    return day, slack_to_text(f"{before} {after}").strip()


def from_form(ctx: Context, form: LogForm, *, dedupe_key: str) -> Reply:
    """The "Log to partner" form, as submitted (App Home button or message shortcut)."""
    return log_from_modal(ctx, partner_id=form.partner_id, kind=form.kind, summary=typed_text(form.text), day=form.day,
                          dedupe_key=dedupe_key, source=form.source.note())


def log_from_modal(ctx: Context, *, partner_id: str, kind: str, summary: str, day: str | None, dedupe_key: str, source: str | None) -> Reply:
    """The "Log to partner" modal (App Home button or message shortcut). A submission
    Slack delivers twice is stored once (keyed by the view's ID)."""
    from datetime import date, datetime, time

    partner = partners.get(session=ctx.session, partner_id=int(partner_id)) if partner_id.isdigit() else None
    if partner is None:
        raise UserError("Pick a partner from the list.")
    if kind not in KINDS:
        raise UserError("Pick a kind of interaction.")
    summary = summary.strip()
    if not summary:
        raise UserError("Say what happened.")
    if source:
        summary = f"{summary}\n{source}"
    if len(summary) > MAX_SUMMARY:
        raise UserError(f"Keep the summary under {MAX_SUMMARY:,} characters.")
    when = ctx.now
    if day:
        picked = date.fromisoformat(day)
        today = ctx.now.astimezone(ctx.settings.zone).date()
        if picked > today:
            raise UserError("That date is in the future; log what already happened.")
        if picked != today:
            when = datetime.combine(picked, time(12), ctx.settings.zone)
    if interactions.logged_with_key(session=ctx.session, dedupe_key=dedupe_key):
        return Reply(text="Already logged.")
    interaction = partners.add_interaction(session=ctx.session, partner=partner, kind=kind, summary=summary,
                                           author_id=ctx.caller.user_id, channel_id=ctx.caller.channel_id, now=when)
    interaction.dedupe_key = dedupe_key
    ctx.session.flush()
    return Reply(text=f"Logged {a(kind)} with {partner.name}.")
