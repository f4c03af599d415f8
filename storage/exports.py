"""What `partnerbot export …` writes: one statement per table, each row as plain values
(the CSV writing and its formula safety are bot/transfer.py's). Secrets are never exported."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from storage.health import stored
from storage.models import DealRegistration, HelpRequest, Interaction, KpiValue, Partner


@dataclass(frozen=True)
class Export:
    header: list[str]
    statement: Callable[[], Select]
    cells: Callable[[Any], list]  # a result row → plain values, in header order
    counted: type  # the model whose row count sizes the progress bar


def _health(partner: Partner) -> list:
    """The stored health, as every other surface shows it (storage/health.py)."""
    health = stored(partner)
    return [health.score, health.label, "; ".join(health.reasons)]


def _archived(partner_archived_at: datetime | None) -> str:
    return "yes" if partner_archived_at else ""


_conflict = aliased(Partner)

EXPORTS: dict[str, Export] = {
    "partners": Export(
        ["name", "type", "tier", "owner", "stage", "created_at", "archived", "health_score", "health", "health_reasons"],
        lambda: select(Partner).order_by(Partner.name_key),
        lambda row: [row[0].name, row[0].type, row[0].tier, row[0].owner_id, row[0].stage, row[0].created_at,
                     _archived(row[0].archived_at), *_health(row[0])],
        Partner,
    ),
    "interactions": Export(
        ["partner", "kind", "summary", "author", "occurred_at", "channel"],
        lambda: select(Partner.name, Interaction).join(Interaction, Interaction.partner_id == Partner.id)
        .order_by(Interaction.occurred_at, Interaction.id),
        lambda row: [row[0], row[1].kind, row[1].summary, row[1].author_id, row[1].occurred_at, row[1].channel_id],
        Interaction,
    ),
    "kpis": Export(
        ["partner", "metric", "month", "source", "attribution", "value"],
        lambda: select(Partner.name, KpiValue).join(KpiValue, KpiValue.partner_id == Partner.id)
        .order_by(Partner.name_key, KpiValue.month, KpiValue.metric, KpiValue.source, KpiValue.attribution),
        lambda row: [row[0], row[1].metric, row[1].month, row[1].source, row[1].attribution, row[1].value],
        KpiValue,
    ),
    "deals": Export(
        ["id", "partner", "customer", "amount", "attribution", "status", "conflict_with", "registered_by",
         "registered_at", "decided_by", "decided_at", "partner_archived"],
        lambda: select(Partner.name, Partner.archived_at, _conflict.name, DealRegistration)
        .join(DealRegistration, DealRegistration.partner_id == Partner.id)
        .outerjoin(_conflict, _conflict.id == DealRegistration.conflict_with_id)
        .order_by(DealRegistration.registered_at, DealRegistration.id),
        lambda row: [row[3].id, row[0], row[3].customer, row[3].amount, row[3].attribution, row[3].status, row[2],
                     row[3].registered_by, row[3].registered_at, row[3].decided_by, row[3].decided_at, _archived(row[1])],
        DealRegistration,
    ),
    "requests": Export(
        ["id", "partner", "team", "request", "status", "requester", "created_at", "due_on", "claimed_by",
         "claimed_at", "resolved_by", "resolved_at", "resolution", "partner_archived"],
        lambda: select(Partner.name, Partner.archived_at, HelpRequest)
        .join(HelpRequest, HelpRequest.partner_id == Partner.id)
        .order_by(HelpRequest.created_at, HelpRequest.id),
        lambda row: [row[2].id, row[0], row[2].team, row[2].text, row[2].status, row[2].requester_id, row[2].created_at,
                     row[2].due_on, row[2].claimed_by, row[2].claimed_at, row[2].resolved_by, row[2].resolved_at,
                     row[2].resolution, _archived(row[1])],
        HelpRequest,
    ),
}


def header(what: str) -> list[str]:
    return EXPORTS[what].header


def size(*, session: Session, what: str) -> int:
    """How many rows the export's table has (for a progress bar; a join may write fewer)."""
    return session.scalar(select(func.count()).select_from(EXPORTS[what].counted)) or 0


def rows(*, session: Session, what: str) -> Iterator[list]:
    """The export's rows as plain values, streamed in batches rather than loaded at once."""
    export = EXPORTS[what]
    for row in session.execute(export.statement().execution_options(yield_per=5000)):
        yield export.cells(row)
