"""Queries about partners and their interactions (keyword-only, never commit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import Interaction, Partner
from storage.names import clean, name_key


@dataclass(frozen=True)
class PartnerRow:
    """A partner with the aggregates lists and portfolios show."""

    partner: Partner
    last_touch: datetime | None
    interaction_count: int
    last_qbr: date | None = None


def by_keys(*, session: Session, keys: list[str]) -> list[Partner]:
    if not keys:
        return []
    return list(session.scalars(select(Partner).where(Partner.name_key.in_(keys))))


def by_keys_batched(*, session: Session, keys: list[str], batch: int = 500) -> dict[str, Partner]:
    """name_key → partner for the keys that exist, asked `batch` keys at a time (bound-parameter limits)."""
    found: dict[str, Partner] = {}
    for start in range(0, len(keys), batch):
        found.update((p.name_key, p) for p in by_keys(session=session, keys=keys[start : start + batch]))
    return found


def update_many(*, session: Session, changes: list[dict]) -> None:
    """Bulk update by primary key: each dict holds `id` and the columns it changes."""
    if changes:
        session.execute(update(Partner), changes)


def insert_many(*, session: Session, rows: list[dict]) -> None:
    """Bulk insert of partner rows (column → value dicts)."""
    if rows:
        session.execute(insert(Partner), rows)


def by_prefix(*, session: Session, prefix: str, limit: int = 6, include_archived: bool = True) -> list[Partner]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (
        select(Partner)
        .where(Partner.name_key.like(escaped + "%", escape="\\"))
        .order_by(Partner.name_key)
        .limit(limit)
    )
    if not include_archived:
        query = query.where(Partner.archived_at.is_(None))
    return list(session.scalars(query))


def all_name_keys(*, session: Session) -> dict[str, str]:
    """name_key → display name, for "did you mean" suggestions (error path only)."""
    return dict(session.execute(select(Partner.name_key, Partner.name)).all())


def get(*, session: Session, partner_id: int) -> Partner | None:
    return session.get(Partner, partner_id)


def create(
    *,
    session: Session,
    name: str,
    type: str,
    tier: str | None,
    owner_id: str,
    stage: str,
    created_by: str,
    now: datetime,
) -> Partner:
    partner = Partner(
        name=clean(name),
        name_key=name_key(name),
        type=type,
        tier=tier,
        owner_id=owner_id,
        stage=stage,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        stage_changed_at=now,
    )
    session.add(partner)
    session.flush()
    return partner


def names_and_crm_ids(*, session: Session) -> list[tuple[int, str, str | None]]:
    """(id, name, crm_id) of every partner, archived too: what CRM deals are matched against."""
    return [tuple(row) for row in session.execute(select(Partner.id, Partner.name, Partner.crm_id))]


def reassign(*, session: Session, old_owner: str, new_owner: str) -> int:
    """Hand every partner `old_owner` owns (archived too) to `new_owner`; how many moved."""
    return session.execute(update(Partner).where(Partner.owner_id == old_owner).values(owner_id=new_owner)).rowcount


def exists(*, session: Session, name: str) -> Partner | None:
    return session.scalar(select(Partner).where(Partner.name_key == name_key(name)))


def add_interaction(
    *,
    session: Session,
    partner: Partner,
    kind: str,
    summary: str,
    author_id: str,
    channel_id: str | None,
    now: datetime,
) -> Interaction:
    interaction = Interaction(
        partner_id=partner.id,
        kind=kind,
        summary=summary,
        author_id=author_id,
        channel_id=channel_id,
        occurred_at=now,
        created_at=now,
    )
    session.add(interaction)
    session.flush()
    return interaction


def recent_interactions(*, session: Session, partner_id: int, limit: int = 5) -> list[Interaction]:
    query = (
        select(Interaction)
        .where(Interaction.partner_id == partner_id)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def interaction_count(*, session: Session, partner_id: int) -> int:
    query = select(func.count()).select_from(Interaction).where(Interaction.partner_id == partner_id)
    return session.scalar(query) or 0


def rows(
    *,
    session: Session,
    owner_id: str | None = None,
    type: str | None = None,
    stage: str | None = None,
    by_health: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> list[PartnerRow]:
    """Partners matching the filters with last touch and interaction count, one query;
    by name, or worst stored health first (`by_health`); a page of them with `offset`/`limit`.

    Correlated subqueries ride the (partner_id, occurred_at) index, so the cost
    follows the partners returned, not the size of the whole history.
    """
    last_touch = (
        select(func.max(Interaction.occurred_at))
        .where(Interaction.partner_id == Partner.id)
        .scalar_subquery()
    )
    count = (
        select(func.count()).where(Interaction.partner_id == Partner.id).scalar_subquery()
    )
    # Not scored yet (NULL) sorts last on both databases; name_key is unique: a stable order for paging.
    order = (Partner.health_score.is_(None), Partner.health_score, Partner.name_key) if by_health else (Partner.name_key,)
    # The page's ids first (an index walk), then the rows and their subqueries for that page
    # alone: databases evaluate the select list for every row an OFFSET skips.
    page = _listed(select(Partner.id), owner_id=owner_id, type=type, stage=stage).order_by(*order).offset(offset).limit(limit)
    query = select(Partner, last_touch, count).where(Partner.id.in_(page.scalar_subquery())).order_by(*order)
    return [PartnerRow(p, touched, n or 0) for p, touched, n in session.execute(query)]


def count_rows(*, session: Session, owner_id: str | None = None, type: str | None = None, stage: str | None = None) -> int:
    """How many partners `rows` lists with the same filters."""
    return session.scalar(_listed(select(func.count(Partner.id)), owner_id=owner_id, type=type, stage=stage)) or 0


def _listed(query, *, owner_id: str | None, type: str | None, stage: str | None):
    """The filters of a partner listing (archived partners never listed)."""
    query = query.where(Partner.archived_at.is_(None))
    if owner_id:
        query = query.where(Partner.owner_id == owner_id)
    if type:
        query = query.where(Partner.type == type)
    if stage:
        query = query.where(Partner.stage == stage)
    return query


def activity(*, session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """What happened in a window: interactions logged, deals registered, requests opened and resolved."""
    from storage.models import DealRegistration, HelpRequest

    def count(column, *where) -> int:
        return session.scalar(select(func.count()).where(column >= start, column < end, *where)) or 0

    return {
        "interactions": count(Interaction.occurred_at, Interaction.kind != "request"),
        "deals": count(DealRegistration.registered_at),
        "requests_opened": count(HelpRequest.created_at),
        "requests_resolved": count(HelpRequest.resolved_at),
    }


def at_risk(*, session: Session) -> list[Partner]:
    """Partners at risk by the one rule (stage `at-risk` or stored score below 40), worst first."""
    from storage.health import at_risk_clause

    return list(session.scalars(
        select(Partner).where(at_risk_clause(), Partner.archived_at.is_(None))
        .order_by(Partner.health_score.is_(None), Partner.health_score, Partner.name_key)
    ))


def in_channel(*, session: Session, channel_id: str) -> Partner | None:
    return session.scalar(select(Partner).where(Partner.slack_channel_id == channel_id).limit(1))


def linked_to(*, session: Session, channel_id: str) -> Partner | None:
    """The one live (not archived) partner whose channel this is; None when none is, or
    (never by `/partner channel`, but by old data) more than one: nobody's channel then."""
    found = list(session.scalars(
        select(Partner).where(Partner.slack_channel_id == channel_id, Partner.archived_at.is_(None)).limit(2)))
    return found[0] if len(found) == 1 else None


def channel_of(*, session: Session, partner_id: int) -> str | None:
    """The channel a live partner is linked to now (None when archived or unlinked)."""
    return session.scalar(select(Partner.slack_channel_id).where(Partner.id == partner_id, Partner.archived_at.is_(None)))
