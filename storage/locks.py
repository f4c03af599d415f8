"""Named locks in the database (one row per name), for work that must not run twice at once across processes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from storage.models import Lock


def acquire(*, session: Session, name: str, holder: str, now: datetime, stale: timedelta) -> bool:
    """Take the lock, or take it over when its holder has had it longer than `stale` (it died); False if held."""
    lock = session.get(Lock, name)
    if lock is None:
        session.add(Lock(name=name, holder=holder, acquired_at=now))
        return True
    if now - lock.acquired_at > stale:
        lock.holder, lock.acquired_at = holder, now
        return True
    return False


def release(*, session: Session, name: str, holder: str) -> None:
    """Let go of the lock if `holder` still has it."""
    session.execute(delete(Lock).where(Lock.name == name, Lock.holder == holder))
