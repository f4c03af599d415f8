"""`/partner stage <partner> <prospect|onboarding|active|at-risk|churned>`"""

from __future__ import annotations

from bot.views.messages import confirmation
from bot.views.text import escape, user
from commands.context import Context, Reply
from commands.errors import NotAllowed, UserError
from commands.parser import Command, choice
from commands.refs import take_partner
from storage.models import Partner, Stage

USAGE = "stage <partner> <prospect|onboarding|active|at-risk|churned>"
DESCRIPTION = "move a partner's lifecycle stage (owner or admin)"


def require_owner_or_admin(partner: Partner, ctx: Context, action: str) -> None:
    if ctx.caller.user_id == partner.owner_id or ctx.is_admin:
        return
    hint = "" if ctx.settings.admins else " (no admins are set: fill in `PARTNERBOT_ADMINS`)"
    raise NotAllowed(
        f"Only {escape(partner.name)}'s owner {user(partner.owner_id)} or an admin{hint} can {action}. Nothing was changed."
    )


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    partner, index = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    if index >= len(cmd.tokens):
        raise UserError("Which stage?", usage=USAGE)
    if index + 1 < len(cmd.tokens):
        raise UserError("`stage` takes one stage after the partner.", usage=USAGE)
    stage = choice(cmd.tokens[index], [s.value for s in Stage], "stage")
    require_owner_or_admin(partner, ctx, "change its stage")
    previous = partner.stage
    if previous == stage:
        return Reply(text=f"{partner.name} is already {stage}.", blocks=confirmation(f"*{escape(partner.name)}* is already *{stage}*."))
    partner.stage = stage
    partner.stage_changed_at = ctx.now
    ctx.session.flush()
    return Reply(
        text=f"{partner.name}: {previous} → {stage}",
        blocks=confirmation(f"*{escape(partner.name)}*: {previous} → *{stage}*."),
    )
