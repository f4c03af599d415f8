"""Queries for cross-functional requests and team routes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from storage.models import HelpRequest, Interaction, RequestStatus, Route


# A request's own message in its team channel goes through the notification
# ledger like every job post: claimed in the transaction that saves the request,
# so a crash before the post leaves a row that the retry job (and escalations) finish.
POST_JOB = "request-post"


def post_key(request_id: int) -> dict[str, str]:
    return {"job": POST_JOB, "subject": f"request:{request_id}", "period": "0"}


def routes(*, session: Session, defaults: dict[str, str]) -> dict[str, str]:
    """team → channel: the environment's routes, overridden by those set in Slack."""
    table = dict(defaults)
    table.update({r.team: r.channel_id for r in session.scalars(select(Route))})
    return dict(sorted(table.items()))


def set_route(*, session: Session, team: str, channel_id: str, usergroup_id: str | None, user_id: str, now: datetime) -> str | None:
    """Set a team's channel (and user group); returns the previous channel from the database, if any."""
    route = session.get(Route, team)
    previous = route.channel_id if route else None
    if route is None:
        session.add(Route(team=team, channel_id=channel_id, usergroup_id=usergroup_id, updated_by=user_id, updated_at=now))
    else:
        route.channel_id, route.usergroup_id, route.updated_by, route.updated_at = channel_id, usergroup_id, user_id, now
    session.flush()
    return previous


def set_sla(*, session: Session, team: str, sla_hours: int | None, user_id: str, now: datetime) -> bool:
    """A team's own SLA in business hours (None: back to PARTNERBOT_REQUEST_SLA_HOURS); False
    when the team has no route set in Slack to keep it with."""
    result = session.execute(update(Route).where(Route.team == team)
                             .values(sla_hours=sla_hours, updated_by=user_id, updated_at=now)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


def create(
    *, session: Session, partner_id: int, team: str, text: str, requester_id: str,
    origin_channel_id: str | None, due_on: str | None, now: datetime, view_id: str | None = None,
) -> HelpRequest:
    request = HelpRequest(
        partner_id=partner_id, team=team, text=text, requester_id=requester_id,
        origin_channel_id=origin_channel_id, status=RequestStatus.OPEN, due_on=due_on, created_at=now,
        view_id=view_id,
    )
    session.add(request)
    session.flush()
    return request


def by_view(*, session: Session, view_id: str) -> HelpRequest | None:
    """The request an "Ask a team" form already created (Slack may deliver a submission twice)."""
    return session.scalar(select(HelpRequest).where(HelpRequest.view_id == view_id))


def get(*, session: Session, request_id: int) -> HelpRequest | None:
    return session.scalar(
        select(HelpRequest).options(joinedload(HelpRequest.partner)).where(HelpRequest.id == request_id)
    )


def claim(*, session: Session, request_id: int, user_id: str, now: datetime) -> bool:
    """Atomic: exactly one of several simultaneous claimers gets True."""
    result = session.execute(
        update(HelpRequest)
        .where(HelpRequest.id == request_id, HelpRequest.status == RequestStatus.OPEN)
        .values(status=RequestStatus.CLAIMED, claimed_by=user_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def resolve(*, session: Session, request_id: int, user_id: str, note: str | None, now: datetime) -> bool:
    """Atomic: only one resolution is recorded; an unclaimed request is claimed by its resolver."""
    request = session.get(HelpRequest, request_id)
    claimed_by = request.claimed_by if request and request.claimed_by else user_id
    result = session.execute(
        update(HelpRequest)
        .where(HelpRequest.id == request_id, HelpRequest.status != RequestStatus.RESOLVED)
        .values(
            status=RequestStatus.RESOLVED, resolved_by=user_id, resolved_at=now, resolution=note,
            claimed_by=claimed_by,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def record_post(*, session: Session, request_id: int, channel_id: str | None, ts: str | None, error: str | None) -> None:
    values = {"post_error": error}
    if ts:
        values |= {"channel_id": channel_id, "message_ts": ts}
    elif channel_id:
        values |= {"channel_id": channel_id}
    session.execute(update(HelpRequest).where(HelpRequest.id == request_id).values(**values))


def listing(
    *, session: Session, status: list[str], team: str | None = None, requester_id: str | None = None,
    involving: str | None = None, partner_id: int | None = None, offset: int = 0, limit: int | None = None,
) -> list[HelpRequest]:
    """Requests oldest first (a page of them with `offset`/`limit`), with their partner loaded in the same query."""
    query = _listed(
        select(HelpRequest).options(joinedload(HelpRequest.partner)).order_by(HelpRequest.created_at, HelpRequest.id),
        status=status, team=team, requester_id=requester_id, involving=involving, partner_id=partner_id,
    )
    return list(session.scalars(query.offset(offset).limit(limit)))


def listing_count(
    *, session: Session, status: list[str], team: str | None = None, requester_id: str | None = None,
    involving: str | None = None, partner_id: int | None = None,
) -> int:
    """How many requests `listing` lists with the same filters."""
    query = _listed(select(func.count(HelpRequest.id)), status=status, team=team, requester_id=requester_id,
                    involving=involving, partner_id=partner_id)
    return session.scalar(query) or 0


def _listed(query, *, status: list[str], team: str | None, requester_id: str | None, involving: str | None,
            partner_id: int | None):
    query = query.where(HelpRequest.status.in_(status))
    if team:
        query = query.where(HelpRequest.team == team)
    if requester_id:
        query = query.where(HelpRequest.requester_id == requester_id)
    if involving:
        query = query.where((HelpRequest.requester_id == involving) | (HelpRequest.claimed_by == involving))
    if partner_id:
        query = query.where(HelpRequest.partner_id == partner_id)
    return query


def log_step(*, session: Session, request: HelpRequest, summary: str, author_id: str, now: datetime) -> Interaction:
    """Every request and transition is on the partner's history."""
    step = Interaction(
        partner_id=request.partner_id, kind="request", summary=summary, author_id=author_id,
        occurred_at=now, created_at=now, channel_id=request.channel_id, request_id=request.id,
    )
    session.add(step)
    session.flush()
    return step


def usergroups(*, session: Session) -> dict[str, str]:
    """team → user group ID, for the teams routed with one."""
    return dict(session.execute(select(Route.team, Route.usergroup_id).where(Route.usergroup_id.is_not(None))).all())


def unposted(*, session: Session, created_before: datetime) -> list[HelpRequest]:
    """Open or claimed requests whose message never reached their team channel."""
    return list(
        session.scalars(
            select(HelpRequest)
            .options(joinedload(HelpRequest.partner))
            .where(HelpRequest.status.in_([RequestStatus.OPEN, RequestStatus.CLAIMED]), HelpRequest.message_ts.is_(None),
                   HelpRequest.created_at < created_before)
            .order_by(HelpRequest.created_at)
        )
    )


def escalation_candidates(*, session: Session) -> list[HelpRequest]:
    """Posted requests not yet resolved (the job decides which are past their SLA)."""
    return list(
        session.scalars(
            select(HelpRequest)
            .options(joinedload(HelpRequest.partner))
            .where(HelpRequest.status.in_([RequestStatus.OPEN, RequestStatus.CLAIMED]), HelpRequest.message_ts.is_not(None))
            .order_by(HelpRequest.created_at)
        )
    )
