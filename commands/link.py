"""`/partner link <partner> <crm-id>`: pin a partner to its CRM value (wins over name matching)."""

from __future__ import annotations

from views.messages import confirmation
from views.text import escape
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command
from commands.permissions import require_owner_or_admin
from commands.refs import take_partner
from storage import audit

USAGE = "link <partner> <crm-id>"
DESCRIPTION = "pin a partner to its name or ID in the CRM (owner or admin)"


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    partner, index = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    value = cmd.rest(index)
    if not value or len(value) > 120:
        raise UserError("Give the partner's value in the CRM (up to 120 characters).", usage=USAGE)
    require_owner_or_admin(partner, ctx, "link it to the CRM")
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="partner.fields", summary=f"linked {partner.name} to the CRM",
                 undo={"partner_id": partner.id, "fields": audit.partner_fields(partner)}, now=ctx.now)
    previous, partner.crm_id = partner.crm_id, value
    ctx.session.flush()
    was = f" (was `{escape(previous)}`)" if previous and previous != value else ""
    return Reply(text=f"{partner.name} linked to {value}.", blocks=confirmation(f"*{escape(partner.name)}* is linked to CRM value `{escape(value)}`{was}."))
