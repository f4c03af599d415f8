"""The partner desk: what a partner's own people do from their Slack Connect channel
(Register a deal, Ask for help, `/partner help|scorecard` typed there).

The partner is always the one linked to the channel, decided by the access boundary
(bot/access.py) and passed in as `partner_id`, never taken from a form. What goes back
to the partner channel is built by views/partner_facing.py alone and sent as
partner-facing notifications (`Notification.partner_id`), in the thread of the
submission; everything internal goes to internal channels and DMs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from commands import scorecard
from commands.amounts import amount, examples
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import shown, typed_text
from commands.teams import routing
from core.messenger import NOT_OURS, Notification, Posted
from storage import audit, deals, partners, requests, webhooks
from storage.models import DealRegistration, Partner
from storage.names import clean, match_key
from storage.periods import local_today
from views import partner_facing
from views.deals import review_message
from views.ids import Block
from views.partner_facing import DealForm, HelpForm
from views.requests import request_message, request_not_posted
from views.text import money

DESK_JOB = "partner-desk"
MAX_CUSTOMER = 120
# What a partner's people hear when the desk can't serve them: it reveals nothing.
CLOSED = "This form can't be sent: its partner desk is closed, or the form was open too long. Click the desk's button again, or ask your partner manager."
ONLY = "Here you can type `/partner help` or `/partner scorecard`, or use the partner desk's buttons."


def _partner(ctx: Context, partner_id: int) -> Partner:
    partner = partners.get(session=ctx.session, partner_id=partner_id)
    if partner is None or partner.archived_at is not None:
        raise UserError(CLOSED)
    return partner


def thread_key(kind: str, subject_id: int) -> tuple[str, str, str]:
    """The ledger key of a submission's receipt in the partner channel: its thread holds the outcomes."""
    return (DESK_JOB, f"{kind}:{subject_id}", "received")


def to_partner_thread(partner: Partner, kind: str, subject_id: int, period: str, text: str,
                      blocks: list[dict]) -> Notification | None:
    """A partner-facing reply in the thread of the submission's receipt, while the partner is
    linked to a channel. The receipt is found when this is sent (it may not be out yet: this
    waits for it, retried); it goes nowhere if the partner's channel is no longer the receipt's."""
    if not partner.slack_channel_id or partner.archived_at is not None:
        return None
    return Notification(DESK_JOB, f"{kind}:{subject_id}", period, partner.slack_channel_id, text, blocks,
                        thread_of=thread_key(kind, subject_id), partner_id=partner.id)


# --- Register a deal -----------------------------------------------------------------------

@dataclass(frozen=True)
class DealTyped:
    """A desk deal form, checked: each mistake is shown under its input."""

    customer: str
    amount: Decimal
    close: date | None
    notes: str | None


def _checked(ctx: Context, form: DealForm) -> DealTyped:
    customer = clean(form.customer)
    if not match_key(customer) or len(customer) > MAX_CUSTOMER:
        raise UserError(f"Give the customer's name (up to {MAX_CUSTOMER} characters).", field=Block.CUSTOMER)
    currency = ctx.settings.currency
    try:
        value, percent = amount(form.amount, what="deal amount", currency=currency, forms=examples("money", currency),
                                positive=True)
    except UserError as error:
        raise UserError(error.message, field=Block.AMOUNT) from None
    if percent:
        raise UserError(f"{shown(form.amount)} is a percentage; give the deal's amount in {currency}.", field=Block.AMOUNT)
    try:
        close = date.fromisoformat(form.close.strip()) if form.close and form.close.strip() else None
    except ValueError:
        raise UserError(f"{shown(form.close or '')} is not a date: pick one, or type it as YYYY-MM-DD.", field=Block.CLOSE) from None
    if close is not None and close < local_today(ctx.now, ctx.settings.zone):
        raise UserError("The expected close date is in the past; pick today or a later day.", field=Block.CLOSE)
    return DealTyped(customer, value, close, typed_text(form.notes)[:partner_facing.MAX_NOTES] or None)


def register_deal(ctx: Context, partner_id: int, form: DealForm) -> Reply:
    """A partner's deal registration: always reviewed, through the same conflict detection
    (by the owner; by the admins when it clashes with another partner's); the partner is
    told "received, under review"."""
    partner = _partner(ctx, partner_id)
    typed = _checked(ctx, form)
    key = match_key(typed.customer)
    deals.lock_customer(session=ctx.session, customer_key=key)
    holding = deals.holding_registrations(session=ctx.session, customer_key=key, since=ctx.now - deals.CONFLICT_WINDOW)
    if (own := next((d for d in holding if d.partner_id == partner.id), None)) is not None:
        # Their own earlier registration: safe to name (it is theirs), nothing about anyone else.
        raise UserError(f"You already registered {typed.customer} on {own.registered_at.astimezone(ctx.settings.zone):%Y-%m-%d}; "
                        "its status is in your scorecard.", field=Block.CUSTOMER)
    first = holding[0] if holding else None
    deal = deals.register_deal(
        session=ctx.session, partner_id=partner.id, customer=typed.customer, customer_key=key, amount=typed.amount,
        attribution="sourced", conflict_with_id=first.partner_id if first else None, user_id=ctx.caller.user_id, now=ctx.now,
        submitted_team_id=ctx.caller.partner_org or "unknown", expected_close=typed.close, notes=typed.notes,
    )
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, team_id=ctx.caller.partner_org, kind="deal.register",
                 summary=f"{partner.name} submitted deal #{deal.id} from its channel: {typed.customer}, "
                         f"{money(typed.amount, ctx.settings.currency)}",
                 undo={"deal_id": deal.id}, partner_id=partner.id, now=ctx.now)
    webhooks.emit(session=ctx.session, hooks=ctx.settings.webhooks, event="deal.registered", partner=partner,
                  subject=webhooks.deal_data(deal, first.partner if first else None), now=ctx.now)
    text, blocks = partner_facing.deal_received(customer=typed.customer, amount=typed.amount, close=typed.close,
                                                currency=ctx.settings.currency, by=ctx.caller.user_id)
    receipt = Notification(*thread_key("deal", deal.id), partner.slack_channel_id or "", text, blocks, partner_id=partner.id)
    reviews = _reviews(ctx, deal, partner, holding)
    return Reply(text="", outbox=[receipt, *reviews], then=_reviewers_reached(ctx, reviews))


def _reviews(ctx: Context, deal: DealRegistration, partner: Partner, holding: list[DealRegistration]) -> list[Notification]:
    """Who decides, by DM with Approve / Reject: the owner; the admins when another partner
    holds the customer (a conflict is theirs to decide, SPEC §9)."""
    others = list({d.partner_id: d.partner for d in holding}.values())
    text, blocks = review_message(deal, partner, currency=ctx.settings.currency, holders=others)
    review = Notification("deal-review", f"deal:{deal.id}", "owner", partner.owner_id, text, blocks,
                          link_to_sent=(*thread_key("deal", deal.id), "Partner's thread"))
    if deal.conflict_with_id is None or not ctx.settings.admins:
        return [review]
    return [replace(review, period=f"admin:{admin}", target=admin) for admin in ctx.settings.admins]


def _reviewers_reached(ctx: Context, reviews: list[Notification]):
    """The outbox is [receipt, *reviews]: if no reviewer could be reached (the owner left,
    or is not one of ours), the admins are asked instead."""
    admins = list(ctx.settings.admins)

    def reached(outcomes: list[Posted]) -> Reply:
        asked = outcomes[1:]
        if any(p.ok or p.error == NOT_OURS for p in asked) or not admins or reviews[0].target in admins:
            return Reply(text="")
        return Reply(text="", outbox=[replace(reviews[0], period=f"admin:{admin}", target=admin) for admin in admins])

    return reached


def decided(ctx: Context, deal: DealRegistration) -> Notification | None:
    """The decision on a partner's submission, for the partner's thread (approved, or not
    approved with the reason the decider gave); never who else holds the customer."""
    text, blocks = partner_facing.deal_outcome(customer=deal.customer, approved=deal.status == "approved",
                                               reason=deal.decision_reason)
    return to_partner_thread(deal.partner, "deal", deal.id, "decided", text, blocks)


# --- Ask for help ---------------------------------------------------------------------------

def ask_help(ctx: Context, partner_id: int, form: HelpForm, *, view_id: str | None) -> Reply:
    """A partner's request: routed by category to an internal team's channel (or the owner),
    never to the shared channel; the partner is told it was received, in its thread."""
    partner = _partner(ctx, partner_id)
    category = form.category if form.category in ctx.settings.partner_help else ""
    if not category:
        raise UserError("Pick what your request is about.", field=Block.CATEGORY)
    text = typed_text(form.text)
    if not text:
        raise UserError("Say what you need.", field=Block.TEXT)
    if view_id and (earlier := requests.by_view(session=ctx.session, view_id=view_id)) is not None:
        return Reply(text=f"Request #{earlier.id} was already sent.")  # one form delivered twice: one request
    team = ctx.settings.partner_help[category]
    target = routing(ctx).get(team) if team != "owner" else None
    target = target or partner.owner_id  # no channel for that team: the owner hears it
    request = requests.create(
        session=ctx.session, partner_id=partner.id, team=team, text=text,
        requester_id=ctx.caller.user_id, origin_channel_id=ctx.caller.channel_id, due_on=None, now=ctx.now, view_id=view_id,
    )
    request.requester_team_id, request.category, request.partner_channel_id = (
        ctx.caller.partner_org or "unknown", category, partner.slack_channel_id)
    ctx.session.flush()
    requests.log_step(session=ctx.session, request=request, summary=f"{partner.name} asked for help from its channel",
                      author_id=ctx.caller.user_id, now=ctx.now)
    audit.record(session=ctx.session, user_id=ctx.caller.user_id, team_id=ctx.caller.partner_org, kind="request.create",
                 summary=f"{partner.name} asked for help from its channel (request #{request.id})",
                 undo={"request_id": request.id}, partner_id=partner.id, now=ctx.now)
    webhooks.emit(session=ctx.session, hooks=ctx.settings.webhooks, event="request.created", partner=partner,
                  subject=webhooks.request_data(request), now=ctx.now)
    said, said_blocks = partner_facing.help_received(category=category, by=ctx.caller.user_id)
    receipt = Notification(*thread_key("request", request.id), partner.slack_channel_id or "", said, said_blocks,
                           partner_id=partner.id)
    text_, blocks = request_message(request, partner, now=ctx.now)
    message = Notification(**requests.post_key(request.id), target=target, text=text_, blocks=blocks,
                           link_to_sent=(*thread_key("request", request.id), "Partner's thread"))
    owner, admins = partner.owner_id, list(ctx.settings.admins)

    def posted(outcomes: list[Posted]) -> Reply:
        """The outbox is [receipt, message]: when the message found no one, someone of ours is told."""
        sent = outcomes[1]
        if sent.ok or sent.error in (None, NOT_OURS):
            return Reply(text="")
        if target == owner:
            # The owner can't be reached (left, or not one of ours): the admins get the request itself.
            return Reply(text="", outbox=[replace(message, job="request-admin", period=f"admin:{admin}", target=admin)
                                          for admin in admins])
        # The team's channel refused it: the owner hears of it, with Post again (the request as loaded above).
        said, blocks = request_not_posted(request, target, sent.error or "unknown_error")
        return Reply(text="", outbox=[Notification("request-not-posted", f"request:{request.id}", "owner", owner, said, blocks)])

    return Reply(text="", outbox=[receipt, message], then=posted)


def request_update(ctx: Context, request, event: str, *, share_resolution: bool = False) -> Notification | None:
    """Claimed or resolved, for the partner's thread: internal notes never; the resolution
    text only when the resolver chose to send it."""
    if not request.from_partner:
        return None
    if event == "claimed":
        text, blocks = partner_facing.help_claimed()
    else:
        text, blocks = partner_facing.help_resolved(request.resolution if share_resolution else None)
    return to_partner_thread(request.partner, "request", request.id, event, text, blocks)


# --- typed by a partner's people ---------------------------------------------------------------

def typed(ctx: Context, partner_id: int, text: str) -> Reply:
    """`/partner …` typed by a partner's own people in their channel: `help` and
    `scorecard` only (any partner named is ignored: it is always their own)."""
    word = text.split(None, 1)[0].casefold() if text.strip() else "help"
    if word == "help":
        said, blocks = partner_facing.help_text()
        return Reply(text=said, blocks=blocks)
    if word == "scorecard":
        return scorecard.show(ctx, partner_id)
    raise UserError(ONLY)
