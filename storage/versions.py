"""Card versions: every write that changes what a partner's card shows bumps
`partners.version` (to a fresh random value) in the same transaction, so a rendered card cached under an
older version is never served — in this process or any other replica.

The watch is on the session, like stored health (storage/health.py): objects with
a `partner_id` (history, KPIs, targets, QBRs, deals, onboarding, requests), the
partner row itself, and bulk statements on those tables. Health's own score
updates are left out: a cached card lives a minute at most (commands/status.py),
which bounds what time alone changes."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from core.cache import Recent
from storage import bulk
from storage.models import Partner

TOUCHED = "partnerbot.versions.touched"
BUMP = "partnerbot.versions.bump"  # execution option: our own statement
HEALTH_WRITE = "partnerbot_health_write"  # storage/health.py's score updates (and it skips ours)
SKIP_OPTIONS = (BUMP, HEALTH_WRITE)
BUMP_CHUNK = 500


# Rendered cards by (partner, version, what was typed): emptied when the process points
# at another database (storage/db.py); bounded, and a minute old at most.
cards = Recent(size=2048, max_age=60.0)


def new_version() -> int:
    """A fresh random version, not a counter: a database restored from a backup, or a
    partner deleted and added again under the same id, never matches a cached card."""
    return secrets.randbits(31)


def rendered(key: Hashable, build: Callable[[], Any]) -> Any:
    """What `build` renders (JSON-able: text, blocks, a view), kept in `cards` under `key`;
    each caller gets its own copy, so a reply that is changed never changes the cache."""
    if (kept := cards.get(key)) is None:
        kept = json.dumps(build())
        cards.put(key, kept)
    return json.loads(kept)


def stamp(*, session: Session, owner_id: str) -> tuple[int, int]:
    """What an owner's portfolio and App Home depend on, in one indexed aggregate: how
    many partners they own and the sum of those partners' versions (any write to any
    of them, an added, archived or handed-over partner changes it)."""
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(Partner.version), 0))
        .where(Partner.owner_id == owner_id, Partner.archived_at.is_(None))
    ).one()
    return int(count), int(total)


def _touched(session: Session) -> set[int]:
    return session.info.setdefault(TOUCHED, set())


def _after_flush(session: Session, _context: Any) -> None:
    touched = _touched(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Partner):
            if obj not in session.new and session.is_modified(obj, include_collections=False):
                touched.add(obj.id)
        elif (partner_id := getattr(obj, "partner_id", None)) is not None:
            touched.add(partner_id)


def _on_execute(state: Any) -> None:
    """Bulk UPDATE/DELETE/INSERT bypass object tracking: note the partners they touch."""
    if not bulk.touches_partners(state) or any(state.execution_options.get(option) for option in SKIP_OPTIONS):
        return
    if state.is_insert and state.statement.table.name == Partner.__tablename__:
        return  # a new partner has nothing cached
    _touched(state.session).update(bulk.partner_ids(state))


def _before_commit(session: Session) -> None:
    session.flush()
    touched = session.info.pop(TOUCHED, set())
    ordered = sorted(touched)
    # In id order and in chunks (bound-parameter limits): two transactions lock rows alike.
    for start in range(0, len(ordered), BUMP_CHUNK):
        session.execute(update(Partner).where(Partner.id.in_(ordered[start:start + BUMP_CHUNK]))
                        .values(version=new_version()).execution_options(**{BUMP: True, HEALTH_WRITE: True}, synchronize_session=False))


def _after_rollback(session: Session, previous: Any) -> None:
    # Only the whole transaction's rollback forgets; a savepoint's leaves a harmless extra bump.
    if getattr(previous, "parent", None) is None:
        session.info.pop(TOUCHED, None)


def track(target: Any) -> None:
    """Watch a sessionmaker so card versions follow every write."""
    if not event.contains(target, "after_flush", _after_flush):
        event.listen(target, "after_flush", _after_flush)
        event.listen(target, "do_orm_execute", _on_execute)
        event.listen(target, "before_commit", _before_commit)
        event.listen(target, "after_soft_rollback", _after_rollback)

