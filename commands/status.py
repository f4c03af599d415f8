"""`/partner status [<partner>]`: a partner's card, or the caller's portfolio."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from views.text import plural
from core.settings import Settings
from views.partner_card import CardData, partner_card
from views.partners import portfolio
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command
from commands.refs import take_partner
from storage import activity, deals, health, home, kpis, onboarding, partners, qbrs, requests, versions
from storage.models import Partner, RequestStatus
from storage.periods import local_today

USAGE = "status [partner]"
DESCRIPTION = "a partner's card; without a name, your portfolio (worst health first)"
READ_ONLY = True  # runs in a read-only unit of work: never waits for a writer


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    if index >= len(cmd.tokens):
        linked = partners.in_channel(session=ctx.session, channel_id=ctx.caller.channel_id) if ctx.caller.channel_id else None
        if linked is None:
            return portfolio_reply(ctx)
        partner, after = linked, index
    else:
        partner, after = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    if after < len(cmd.tokens):
        raise UserError("`status` takes one partner name; put names with spaces in quotes.", usage=USAGE)
    # A card rendered for this partner's current version (bumped by every write, in its
    # transaction) is the same card: served without reading the record again.
    key = (partner.id, partner.created_at, partner.version, cmd.raw, ctx.settings.timezone, ctx.settings.currency, ctx.settings.fiscal_year_start)
    text, blocks = versions.rendered(key, lambda: card(ctx, partner, cmd.raw))
    return Reply(text=text, blocks=blocks)


def card(ctx: Context, partner: Partner, typed: str) -> tuple[str, list[dict]]:
    data = card_data(ctx.session, partner, now=ctx.now, settings=ctx.settings)
    blocks = partner_card(data, now=ctx.now, zone=ctx.settings.zone, currency=ctx.settings.currency, share_text=typed)
    return f"{partner.name}: {partner.stage}, health {data.health.score}/100 ({data.health.label})", blocks


def quarter_progress(now: datetime, settings: Settings) -> tuple[str, list[str], float]:
    """This fiscal quarter, its months, and the share of it that has passed."""
    return health.quarter_progress(now, settings.zone, settings.fiscal_year_start)


def card_data(session: Session, partner: Partner, *, now: datetime, settings: Settings) -> CardData:
    recent = partners.recent_interactions(session=session, partner_id=partner.id, limit=5)
    quarter, months, _ = quarter_progress(now, settings)
    attainment = kpis.quarter_attainment(session=session, partner_id=partner.id, months=months, quarter=quarter,
                                         as_of=now, zone=settings.zone)
    today = local_today(now, settings.zone)
    next_qbr, last_qbr = qbrs.next_and_last_qbr(session=session, partner_id=partner.id, today=today)
    return CardData(
        partner=partner,
        # The stored score, as every other surface shows it (storage/health.py keeps it current).
        health=health.current(session, partner),
        recent=recent,
        interaction_count=partners.interaction_count(session=session, partner_id=partner.id),
        steps=onboarding.STEPS[partner.type],
        steps_done=onboarding.steps_done(session=session, partner_id=partner.id),
        next_qbr=next_qbr,
        last_qbr=last_qbr,
        quarter=quarter,
        attainment=attainment,
        deals=deals.open_deals(session=session, partner_id=partner.id),
        requests=requests.listing(
            session=session, status=[RequestStatus.OPEN, RequestStatus.CLAIMED], partner_id=partner.id, limit=6
        ),
        channel_messages=activity.messages_in_window(session=session, partner_id=partner.id, today=today)
        if partner.partner_active_at else 0,
    )


def portfolio_reply(ctx: Context) -> Reply:
    owner = ctx.caller.user_id
    # Cached like a card, under a stamp of the owner's partners' versions (one aggregate).
    key = ("portfolio", owner, versions.stamp(session=ctx.session, owner_id=owner), ctx.settings.timezone)
    text, blocks = versions.rendered(key, lambda: _portfolio(ctx, owner))
    return Reply(text=text, blocks=blocks)


def _portfolio(ctx: Context, owner: str) -> tuple[str, list[dict]]:
    rows = home.portfolio(session=ctx.session, owner_id=owner)
    return f"Portfolio: {plural(len(rows), 'partner')}", portfolio(rows, owner_id=owner, now=ctx.now)
