"""Block Kit for deal registrations and their conflicts."""

from __future__ import annotations

from typing import Any

from views.ids import Action, Block, View
from views.text import money
from views.text import button, context, escape, section, user
from storage.models import DealRegistration, DealStatus, Partner


def holder_names(partners: list[Partner]) -> str:
    """"*Acme*, *Hooli* and *Initech*" (names escaped)."""
    names = [f"*{escape(p.name)}*" for p in partners]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def conflict_message(
    deal: DealRegistration, partner: Partner, first: Partner, *, currency: str, holders: list[Partner] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Posted for admins: approve or reject a deal whose customer another partner registered first.
    `holders`: every partner holding the customer (earliest first), when known."""
    also = [p for p in holders or [] if p.id != first.id]
    blocks: list[dict[str, Any]] = [
        section(
            f":rotating_light: *Deal conflict #{deal.id}*: *{escape(partner.name)}* registered "
            f"*{escape(deal.customer)}* ({money(deal.amount, currency)}), already registered first by "
            f"*{escape(first.name)}* in the last 90 days"
            + (f"; also held by {holder_names(also)}." if also else ".")
        ),
        context(f"Registered by {user(deal.registered_by)} · owner {user(partner.owner_id)}"),
    ]
    if deal.status == DealStatus.CONFLICT:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"deal-{deal.id}",
                "elements": [
                    button("Approve", Action.DEAL_APPROVE, str(deal.id), style="primary"),
                    button("Reject", Action.DEAL_REJECT, str(deal.id), style="danger"),
                ],
            }
        )
    else:
        verdict = ":white_check_mark: Approved" if deal.status == DealStatus.APPROVED else ":no_entry: Rejected"
        blocks.append(section(f"{verdict} by {user(deal.decided_by or '')}"))
    text = f"Deal conflict #{deal.id}: {partner.name} registered {deal.customer}"
    return escape(text), blocks


def review_message(
    deal: DealRegistration, partner: Partner, *, currency: str, holders: list[Partner],
) -> tuple[str, list[dict[str, Any]]]:
    """For the owner (or an admin): a deal the partner registered from its channel, to approve
    or reject (a rejection's reason goes back to the partner). `holders`: other partners
    holding the customer (the conflict, for our eyes only)."""
    others = [p for p in holders if p.id != partner.id]
    close = f" · expected close {deal.expected_close:%Y-%m-%d}" if deal.expected_close else ""
    lines = [f":inbox_tray: *Deal #{deal.id}* registered by *{escape(partner.name)}* in its partner channel: "
             f"*{escape(deal.customer)}* · {money(deal.amount, currency)}{close}"]
    if deal.notes:
        lines.append(f"Their notes:\n>{escape(deal.notes[:1500])}")
    if others:
        lines.append(f":rotating_light: Conflict: also registered in the last 90 days by {holder_names(others)} "
                     "(the partner is never told who).")
    blocks: list[dict[str, Any]] = [section("\n".join(lines)),
                                    context(f"Submitted by {user(deal.registered_by)} · owner {user(partner.owner_id)} · "
                                            "approve or reject it; the partner sees the outcome in its thread")]
    if deal.status in (DealStatus.REVIEW, DealStatus.CONFLICT):
        blocks.append({"type": "actions", "block_id": f"deal-{deal.id}", "elements": [
            button("Approve", Action.DEAL_APPROVE, str(deal.id), style="primary"),
            button("Reject", Action.DEAL_REJECT_REASON, str(deal.id), style="danger"),
        ]})
    else:
        verdict = ":white_check_mark: Approved" if deal.status == DealStatus.APPROVED else ":no_entry: Rejected"
        reason = f": {escape(deal.decision_reason)}" if deal.decision_reason else ""
        blocks.append(section(f"{verdict} by {user(deal.decided_by or '')}{reason}"))
    return escape(f"Deal #{deal.id} registered by {partner.name} in its partner channel: {deal.customer}"), blocks


def reject_modal(deal_id: int, clicked: str = "") -> dict[str, Any]:
    """The reason for turning down a partner's deal: it is posted in the partner's thread.
    `clicked`: the reply URL of the review message clicked, replaced once decided."""
    return {
        "type": "modal", "callback_id": View.DEAL_REJECT, "private_metadata": f"{deal_id}|{clicked}"[:3000],
        "title": {"type": "plain_text", "text": f"Reject deal #{deal_id}"[:24]},
        "submit": {"type": "plain_text", "text": "Reject"}, "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "input", "block_id": Block.TEXT, "optional": True,
                    "label": {"type": "plain_text", "text": "Reason (the partner sees it)"},
                    "element": {"type": "plain_text_input", "action_id": Action.INPUT, "multiline": True, "max_length": 1500}}],
    }


def decision_dm(deal: DealRegistration, partner: Partner, *, currency: str) -> tuple[str, list[dict[str, Any]]]:
    verdict = "approved" if deal.status == DealStatus.APPROVED else "rejected"
    text = (f"Your deal registration #{deal.id} for *{escape(deal.customer)}* ({money(deal.amount, currency)}) "
            f"with *{escape(partner.name)}* was *{verdict}* by {user(deal.decided_by or '')}.")
    return escape(f"Deal #{deal.id} {verdict}"), [section(text)]
