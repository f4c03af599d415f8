"""`/partner status [<partner>]`: a partner's card, or the caller's portfolio."""

from __future__ import annotations

from bot.views.partners import CardData, partner_card, portfolio
from commands.context import Context, Reply
from commands.parser import Command
from commands.refs import take_partner
from commands.errors import UserError
from storage import partners
from storage.health import assess

USAGE = "status [partner]"
DESCRIPTION = "a partner's card; without a name, your portfolio (worst health first)"


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    if index >= len(cmd.tokens):
        return portfolio_reply(ctx)
    partner, after = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    if after < len(cmd.tokens):
        raise UserError(f"`status` takes one partner name; quote names with spaces.", usage=USAGE)
    recent = partners.recent_interactions(session=ctx.session, partner_id=partner.id, limit=5)
    count = partners.interaction_count(session=ctx.session, partner_id=partner.id)
    last_touch = recent[0].occurred_at if recent else None
    health = assess(stage=partner.stage, created_at=partner.created_at, last_touch=last_touch, now=ctx.now)
    blocks = partner_card(
        CardData(partner, health, recent, count),
        now=ctx.now,
        zone=ctx.settings.zone,
        share_text=cmd.raw,
    )
    return Reply(text=f"{partner.name}: {partner.stage}, health {health.score}/100", blocks=blocks)


def portfolio_reply(ctx: Context, *, owner_id: str | None = None) -> Reply:
    owner = owner_id or ctx.caller.user_id
    rows = [
        (r.partner, r.last_touch, assess(stage=r.partner.stage, created_at=r.partner.created_at, last_touch=r.last_touch, now=ctx.now))
        for r in partners.rows(session=ctx.session, owner_id=owner)
    ]
    return Reply(text=f"Portfolio: {len(rows)} partners", blocks=portfolio(rows, owner_id=owner, now=ctx.now))
