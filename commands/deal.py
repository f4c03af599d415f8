"""`/partner deal <partner> <customer> <amount> [attribution:influenced]`: channel deal registration."""

from __future__ import annotations

from sqlalchemy.orm import Session

from views.deals import conflict_message, decision_dm, holder_names
from views.messages import confirmation
from views.text import money
from views.text import a, escape
from core.messenger import SHARED
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, amount, amount_words, choice, examples, shown, split_options
from commands.permissions import require_admin
from commands.refs import take_partner
from storage import audit, deals, webhooks
from storage.models import DealRegistration, DealStatus, Partner, PartnerType
from storage.names import clean, match_key
from storage.periods import month_bounds, month_of

USAGE = "deal <partner> <customer> <amount> [attribution:influenced]"
DESCRIPTION = "register a channel partner's deal; a customer another partner registered in 90 days is flagged"
MAX_CUSTOMER = 120


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    partner, index = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    positional, opts = split_options(cmd.tokens[index:], {"attribution"})
    if len(positional) < 2:
        raise UserError("Give the customer and the amount, e.g. `/partner deal acme \"Globex Inc\" 25k`.", usage=USAGE)
    words = amount_words(positional) or 1  # `25k`, `1.2 million`, `$ 50k`
    forms = examples("money", ctx.settings.currency)
    typed = " ".join(t.text for t in positional[-words:])
    # One rule, said the same way everywhere: a deal amount is money, more than zero.
    value, percent = amount(typed, what="deal amount", currency=ctx.settings.currency, forms=forms, positive=True)
    if percent:
        raise UserError(f"{shown(typed)} is a percentage; a deal amount is money, like {forms}.", usage=USAGE)
    customer = clean(" ".join(t.text for t in positional[:-words]))
    if not match_key(customer) or len(customer) > MAX_CUSTOMER:
        raise UserError(f"Give the customer's name (up to {MAX_CUSTOMER} characters).", usage=USAGE)
    if partner.type != PartnerType.CHANNEL:
        raise UserError(f"Deal registration is for channel partners; *{escape(partner.name)}* is {a(partner.type + ' partner')}.")
    attribution = choice(opts["attribution"], ["sourced", "influenced"], "attribution") if "attribution" in opts else "sourced"
    key = match_key(customer)
    deals.lock_customer(session=ctx.session, customer_key=key)
    holding = deals.holding_registrations(session=ctx.session, customer_key=key, since=ctx.now - deals.CONFLICT_WINDOW)
    currency = ctx.settings.currency
    own = next((d for d in holding if d.partner_id == partner.id), None)
    if own is not None:
        raise UserError(duplicate_text(own, partner, ctx))
    # The earliest registration still holding the customer names the conflict; every holder is listed.
    first = holding[0] if holding else None
    others = list({d.partner_id: d.partner for d in holding}.values())
    deal = deals.register_deal(
        session=ctx.session, partner_id=partner.id, customer=customer, customer_key=key, amount=value, attribution=attribution,
        conflict_with_id=first.partner_id if first else None, user_id=ctx.caller.user_id, now=ctx.now,
    )
    earlier = first.partner if first else None
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="deal.register",
                 summary=f"registered deal #{deal.id} for {partner.name}" + (" as a conflict" if first else "")
                 + f": {customer}, {money(value, currency)}",
                 undo={"deal_id": deal.id}, partner_id=partner.id, now=ctx.now)
    webhooks.emit(session=ctx.session, hooks=ctx.settings.webhooks, event="deal.registered", partner=partner,
                  subject=webhooks.deal_data(deal, earlier), now=ctx.now)
    if first is None:
        refresh_kpi(ctx.session, deal, ctx)
        return Reply(
            text=f"Deal #{deal.id} registered.",
            blocks=confirmation(f"Registered deal *#{deal.id}*: *{escape(customer)}* · {money(value, currency)} for *{escape(partner.name)}*."),
        )
    assert earlier is not None
    deal_id = deal.id
    first_line = f"deal #{first.id}, {first.registered_at.astimezone(ctx.settings.zone):%a %Y-%m-%d}"
    also = [p for p in others if p.id != earlier.id]

    def notify() -> Reply:
        text, blocks = conflict_message(deal, partner, earlier, currency=currency, holders=others)
        where, decided = deliver_conflict(ctx, text, blocks, deal_id)
        held_by = f" Also registered by {holder_names(also)}." if also else ""
        return Reply(
            text=f"Deal #{deal_id} is flagged as a conflict.",
            blocks=confirmation(
                f"Deal *#{deal_id}* for *{escape(customer)}* is flagged as a *conflict*: *{escape(earlier.name)}* "
                f"registered this customer first ({first_line}).{held_by}",
                detail=f"{where}; you'll get a DM with the outcome." if decided else where,
            ),
        )

    return Reply(text="", after=notify)


def deliver_conflict(ctx: Context, text: str, blocks: list[dict], deal_id: int) -> tuple[str, bool]:
    """Post a conflict where an admin can decide it: the digest channel, else (none
    set, or the post failed, e.g. a shared channel) a DM to each admin. Returns what
    the registrant is told — where it actually went — and whether anyone got it."""
    digest, admins = ctx.settings.digest_channel, list(ctx.settings.admins)
    missed = ""
    if digest:
        posted = ctx.slack.post(digest, text, blocks)
        if posted.ok:
            return f"An admin will approve or reject it in <#{digest}>", True
        why = "it is shared with another organisation" if posted.error == SHARED else f"`{posted.error}`"
        missed = f"It couldn't be posted to <#{digest}> ({why}), "
    if not admins:
        unset = "no admins are set to decide it: fill in `PARTNERBOT_ADMINS`"
        return (missed + "and " + unset) if missed else unset[0].upper() + unset[1:], False
    reached = [admin for admin in admins if ctx.slack.post(admin, text, blocks).ok]
    if reached:
        told = "the admins got a DM" if len(reached) == len(admins) else f"{', '.join(f'<@{a}>' for a in reached)} got a DM"
        told = f"{told} to approve or reject it"
        return (missed + "so " + told) if missed else told[0].upper() + told[1:], True
    return ((missed + "and the DMs to the admins failed too") if missed else "The DMs to the admins failed")  \
        + f": nobody has been asked yet, so tell an admin about deal #{deal_id} (it stays a conflict until one decides)", False


def duplicate_text(existing: DealRegistration, partner: Partner, ctx: Context) -> str:
    """A partner registering a customer it already holds: refused, pointing at the deal it has."""
    day = existing.registered_at.astimezone(ctx.settings.zone)
    status = {DealStatus.CONFLICT: ", awaiting an admin's decision", DealStatus.APPROVED: ", approved"}.get(existing.status, "")
    return (f"*{escape(partner.name)}* already registered *{escape(existing.customer)}*: deal *#{existing.id}* on {day:%a %Y-%m-%d} "
            f"for {money(existing.amount, ctx.settings.currency)}{status}. A customer is registered once per partner in "
            f"{deals.CONFLICT_WINDOW.days} days, so nothing was registered; see it with `/partner status {escape(partner.name)}`.")


def refresh_kpi(session: Session, deal: DealRegistration, ctx: Context) -> None:
    month = month_of(deal.registered_at.astimezone(ctx.settings.zone).date())
    since, until = month_bounds(month, ctx.settings.zone)
    deals.refresh_deal_kpi(session=session, partner_id=deal.partner_id, month=month, since=since, until=until, now=ctx.now)


def decide(ctx: Context, deal_id: int, *, approve: bool) -> Reply:
    """Approve / Reject buttons (admins only): decided once, message updated, registrant told."""
    require_admin(ctx, "approve or reject deal conflicts")
    deal = ctx.session.get(DealRegistration, deal_id)
    if deal is None:
        raise UserError("That deal registration no longer exists. Nothing was changed.")
    if not deals.decide_deal(session=ctx.session, deal_id=deal_id, approve=approve, user_id=ctx.caller.user_id, now=ctx.now):
        ctx.session.refresh(deal)
        raise UserError(f"Deal #{deal_id} was already {deal.status} by <@{deal.decided_by}>.")
    ctx.session.refresh(deal)
    if approve:
        refresh_kpi(ctx.session, deal, ctx)
    partner, first = deal.partner, deal.conflict_with
    currency = ctx.settings.currency
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, kind="deal.decide",
                 summary=f"{deal.status} deal #{deal.id} for {partner.name}: {deal.customer}",
                 undo={"deal_id": deal.id}, partner_id=partner.id, now=ctx.now)
    webhooks.emit(session=ctx.session, hooks=ctx.settings.webhooks, event=f"deal.{deal.status}", partner=partner,
                  subject=webhooks.deal_data(deal, first), now=ctx.now)

    def tell() -> Reply:
        text, blocks = conflict_message(deal, partner, first or partner, currency=currency)
        dm_text, dm_blocks = decision_dm(deal, partner, currency=currency)
        ctx.slack.post(deal.registered_by, dm_text, dm_blocks)
        return Reply(text=text, blocks=blocks, replace_original=True)

    return Reply(text="", after=tell)
