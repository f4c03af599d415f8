"""Block Kit for deal registrations and their conflicts."""

from __future__ import annotations

from typing import Any

from views.ids import Action
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


def decision_dm(deal: DealRegistration, partner: Partner, *, currency: str) -> tuple[str, list[dict[str, Any]]]:
    verdict = "approved" if deal.status == DealStatus.APPROVED else "rejected"
    text = (f"Your deal registration #{deal.id} for *{escape(deal.customer)}* ({money(deal.amount, currency)}) "
            f"with *{escape(partner.name)}* was *{verdict}* by {user(deal.decided_by or '')}.")
    return escape(f"Deal #{deal.id} {verdict}"), [section(text)]
