"""`/partner deal <partner> <customer> <amount> [attribution:influenced]`: channel deal registration."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from commands import desk
from commands.context import Context, Reply
from commands.errors import UserError
from commands.amounts import amount, amount_words, examples
from commands.parser import Command, choice, shown, split_options
from commands.permissions import require_admin, require_owner_or_admin
from commands.refs import take_partner
from core.messenger import SHARED, Notification, Posted
from storage import audit, deals, webhooks
from storage.models import DealRegistration, DealStatus, Partner, PartnerType
from storage.names import clean, match_key
from storage.periods import month_bounds, month_of
from views.deals import conflict_message, decision_dm, holder_names, review_message
from views.messages import confirmation
from views.text import a, escape, money

USAGE = "deal <partner> <customer> <amount> [attribution:influenced]"
DESCRIPTION = "register a channel partner's deal; a customer another partner registered in 90 days is flagged"
MAX_CUSTOMER = 120


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    partner, customer, value, attribution = _read(cmd, index, ctx)
    return register(ctx, partner, customer, value, attribution)


def _read(cmd: Command, index: int, ctx: Context) -> tuple[Partner, str, Decimal, str]:
    """The partner, customer, amount and attribution typed, each checked."""
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
    return partner, customer, value, attribution


def register(ctx: Context, partner: Partner, customer: str, value: Decimal, attribution: str) -> Reply:
    """Register the deal: refused as a duplicate, registered, or flagged as a conflict for an admin."""
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
    first_line = f"deal #{first.id}, {first.registered_at.astimezone(ctx.settings.zone):%a %Y-%m-%d}"
    also = [p for p in others if p.id != earlier.id]
    held_by = f" Also registered by {holder_names(also)}." if also else ""
    said = (f"Deal *#{deal.id}* for *{escape(customer)}* is flagged as a *conflict*: *{escape(earlier.name)}* "
            f"registered this customer first ({first_line}).{held_by}")
    text, blocks = conflict_message(deal, partner, earlier, currency=currency, holders=others)
    return ask_deciders(ctx, deal.id, text, blocks, said)


def ask_deciders(ctx: Context, deal_id: int, text: str, blocks: list[dict], said: str) -> Reply:
    """A conflict goes where an admin can decide it: the digest channel, else (none set,
    or the post failed, e.g. a shared channel) a DM to each admin. The registrant is
    told where it actually went, and whether anyone got it."""
    digest, admins = ctx.settings.digest_channel, list(ctx.settings.admins)
    subject = f"deal:{deal_id}"

    def told(where: str, decided: bool) -> Reply:
        return Reply(text=f"Deal #{deal_id} is flagged as a conflict.",
                     blocks=confirmation(said, detail=f"{where}; you'll get a DM with the outcome." if decided else where))

    def to_admins(missed: str) -> Reply:
        if not admins:
            unset = "no admins are set to decide it: fill in `PARTNERBOT_ADMINS`"
            return told((missed + "and " + unset) if missed else unset[0].upper() + unset[1:], False)

        def reached(outcomes: list[Posted]) -> Reply:
            got = [admin for admin, posted in zip(admins, outcomes) if posted.ok]
            if not got:
                return told(((missed + "and the DMs to the admins failed too") if missed else "The DMs to the admins failed")
                            + f": nobody has been asked yet, so tell an admin about deal #{deal_id} (it stays a conflict "
                            "until one decides)", False)
            dm = "the admins got a DM" if len(got) == len(admins) else f"{', '.join(f'<@{a}>' for a in got)} got a DM"
            dm += " to approve or reject it"
            return told((missed + "so " + dm) if missed else dm[0].upper() + dm[1:], True)

        return Reply(text="", outbox=[Notification("deal-conflict", subject, f"admin:{admin}", admin, text, blocks)
                                      for admin in admins], then=reached)

    if not digest:
        return to_admins("")

    def posted_or_not(outcomes: list[Posted]) -> Reply:
        if outcomes[0].ok:
            return told(f"An admin will approve or reject it in <#{digest}>", True)
        why = "it is shared with another organisation" if outcomes[0].error == SHARED else f"`{outcomes[0].error}`"
        return to_admins(f"It couldn't be posted to <#{digest}> ({why}), ")

    return Reply(text="", outbox=[Notification("deal-conflict", subject, "digest", digest, text, blocks)], then=posted_or_not)


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


def decide(ctx: Context, deal_id: int, *, approve: bool, reason: str | None = None) -> Reply:
    """Approve / Reject: a conflict by an admin (a partner's submission that clashes too); a
    partner's own submission otherwise by its owner or an admin. Decided once, the message updated, the registrant told (a partner in the
    thread of its submission, with the reason given)."""
    deal = ctx.session.get(DealRegistration, deal_id)
    if deal is not None and deal.from_partner and deal.conflict_with_id is None:
        require_owner_or_admin(deal.partner, ctx, "approve or reject this partner's deal")
    else:  # a conflict is the admins' to decide, whoever registered it
        require_admin(ctx, "approve or reject deal conflicts")
    if deal is None:
        raise UserError("That deal registration no longer exists. Nothing was changed.")
    # A reason is the partner's to read: kept only for a partner's own submission.
    reason = None if approve or not deal.from_partner else ((reason or "").strip()[:1500] or None)
    if not deals.decide_deal(session=ctx.session, deal_id=deal_id, approve=approve, user_id=ctx.caller.user_id, now=ctx.now,
                             reason=reason):
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

    if deal.from_partner:
        text, blocks = review_message(deal, partner, currency=currency, holders=[first] if first else [])
        told = desk.decided(ctx, deal)
        return Reply(text=text, blocks=blocks, replace_original=True, outbox=[told] if told else [])
    text, blocks = conflict_message(deal, partner, first or partner, currency=currency)
    dm_text, dm_blocks = decision_dm(deal, partner, currency=currency)
    told = Notification("deal-decision", f"deal:{deal.id}", "registrant", deal.registered_by, dm_text, dm_blocks)
    return Reply(text=text, blocks=blocks, replace_original=True, outbox=[told])
