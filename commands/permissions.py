"""Who may do what (SPEC §9), decided from the Slack user ID, never from text."""

from __future__ import annotations

from views.text import escape, user
from commands.context import Context
from commands.errors import NotAllowed
from storage.models import Partner


def require_admin(ctx: Context, action: str) -> None:
    if ctx.is_admin:
        return
    if not ctx.settings.admins:
        raise NotAllowed(f"Only admins can {action}, and none are set: fill in `PARTNERBOT_ADMINS` with Slack user IDs.")
    raise NotAllowed(f"Only admins can {action}. Nothing was changed.")


def require_owner_or_admin(partner: Partner, ctx: Context, action: str) -> None:
    if ctx.caller.user_id == partner.owner_id or ctx.is_admin:
        return
    hint = "" if ctx.settings.admins else " (no admins are set: fill in `PARTNERBOT_ADMINS`)"
    raise NotAllowed(
        f"Only {escape(partner.name)}'s owner {user(partner.owner_id)} or an admin{hint} can {action}. Nothing was changed."
    )
