"""`/partner log <partner> [<kind>] <summary…>`"""

from __future__ import annotations

import difflib

from bot.views.messages import confirmation
from bot.views.text import cut, escape
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, shown
from commands.refs import take_partner
from storage import partners
from storage.models import InteractionKind

USAGE = "log <partner> <call|meeting|email|note|training|demo> <summary>"
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
    summary = cmd.rest(index)
    if not summary:
        raise UserError(f"Say what happened, e.g. `/partner log {escape(partner.name)} call discussed Q3 plan`.", usage=USAGE)
    if len(summary) > MAX_SUMMARY:
        raise UserError(f"Keep the summary under {MAX_SUMMARY:,} characters.", usage=USAGE)
    partners.add_interaction(
        session=ctx.session,
        partner=partner,
        kind=kind,
        summary=summary,
        author_id=ctx.caller.user_id,
        channel_id=ctx.caller.channel_id,
        now=ctx.now,
    )
    note = " (no kind given, so logged as a note)" if defaulted else ""
    return Reply(
        text=f"Logged a {kind} with {partner.name}.",
        blocks=confirmation(f"Logged a *{kind}* with *{escape(partner.name)}*{note}.", detail=escape(cut(summary, 500))),
    )
