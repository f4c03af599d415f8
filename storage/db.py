"""Engine, the one session scope (`unit_of_work`), and migrations."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "partnerbot_read_only"

_lock = threading.Lock()
_engine: Engine | None = None
_sessions: sessionmaker[Session] | None = None


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )

    # SQLAlchemy's documented pysqlite recipe: let SQLAlchemy emit BEGIN itself,
    # and make it BEGIN IMMEDIATE so writers queue on the busy timeout instead
    # of failing with "database is locked" when a read upgrades to a write.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if parsed.database and parsed.database != ":memory:":
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # Readers use a deferred BEGIN: with WAL they never wait for a writer.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def configure(url: str) -> Engine:
    """Point the process at a database (idempotent for the same URL)."""
    global _engine, _sessions
    with _lock:
        if _engine is not None and str(_engine.url) == str(make_url(url)):
            return _engine
        if _engine is not None:
            _engine.dispose()
        _engine = make_engine(url)
        _sessions = sessionmaker(_engine, expire_on_commit=False)
        # Stored health follows every write, in the same transaction (storage/health.py).
        from storage import health, versions

        # Versions first: at commit their bump locks every touched partner row in id order
        # before health writes its subset (no lock-order deadlock between two writers).
        versions.track(_sessions)  # rendered cards follow every write, in its transaction
        health.track(_sessions)
        versions.cards.clear()
        return _engine


def engine() -> Engine:
    if _engine is None:
        from core.settings import get_settings

        configure(get_settings().database_url)
    assert _engine is not None
    return _engine


@contextmanager
def unit_of_work(*, read_only: bool = False) -> Iterator[Session]:
    """The one session scope: commit on success, roll back on any error.

    `read_only` units (a status card, a list) start a deferred transaction on
    SQLite, so they never queue behind writers; others take the write lock at
    BEGIN (BEGIN IMMEDIATE), so a read never has to upgrade into a write.
    """
    engine()
    assert _sessions is not None
    session = _sessions()
    if read_only:
        session.connection(execution_options={READ_ONLY: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade(url: str | None = None) -> None:
    """Apply Alembic migrations up to head."""
    # Alembic logs its plugins, context and each revision at INFO: start-up noise; its
    # warnings stay. Before the import, which already logs.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = configure(url) if url else engine()
    command.upgrade(config, "head")
