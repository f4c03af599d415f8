"""`/partner stage <partner> <prospect|onboarding|active|at-risk|churned>`"""

from __future__ import annotations

from views.messages import confirmation
from views.text import escape
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, choice
from commands.refs import take_partner
from commands.permissions import require_owner_or_admin
from storage import audit, webhooks
from storage.models import Stage

USAGE = "stage <partner> <prospect|onboarding|active|at-risk|churned>"
DESCRIPTION = "move a partner's lifecycle stage (owner or admin)"


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    partner, index = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    if index >= len(cmd.tokens):
        raise UserError("Which stage?", usage=USAGE)
    if index + 1 < len(cmd.tokens):
        raise UserError("`stage` takes one stage after the partner.", usage=USAGE)
    stage = choice(cmd.tokens[index], [s.value for s in Stage], "stage")
    require_owner_or_admin(partner, ctx, "change its stage")
    previous = partner.stage
    before = audit.partner_fields(partner)
    if previous == stage:
        return Reply(text=f"{partner.name} is already {stage}.", blocks=confirmation(f"*{escape(partner.name)}* is already *{stage}*."))
    partner.stage = stage
    partner.stage_changed_at = ctx.now
    ctx.session.flush()
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="partner.fields",
                 summary=f"moved {partner.name} from {previous} to {stage}", undo={"partner_id": partner.id, "fields": before}, now=ctx.now)
    webhooks.emit(session=ctx.session, hooks=ctx.settings.webhooks, event="partner.stage_changed", partner=partner,
                  subject={"stage": {"from": previous, "to": stage}}, now=ctx.now)
    return Reply(
        text=f"{partner.name}: {previous} → {stage}",
        blocks=confirmation(f"*{escape(partner.name)}*: {previous} → *{stage}*."),
    )
