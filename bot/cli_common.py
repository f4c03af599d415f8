"""What every `partnerbot` subcommand shares: its one error type, the database
check and upgrade before it starts, and required settings."""

from __future__ import annotations

import os
from pathlib import Path

from core.settings import Settings, SettingsError


class CommandError(Exception):
    """A CLI failure with a message for the terminal (exit code 1, or `code`)."""

    def __init__(self, message: str, *, code: int = 1):
        super().__init__(message)
        self.code = code


def prepare(settings: Settings, url: str | None = None) -> None:
    """The database DATABASE_URL (or `url`) names, configured and upgraded; one line if it is unusable."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from storage import db

    url = url or settings.database_url
    try:
        db.configure(url)
        db.upgrade()
        _score_unscored(settings)
    except (DBAPIError, ArgumentError) as error:
        raise CommandError(database_problem(url, error), code=2) from None
    except ModuleNotFoundError as error:  # e.g. PostgreSQL without its driver installed
        raise CommandError(database_problem(url, f"its driver {error.name} is not installed"), code=2) from None


def _score_unscored(settings: Settings) -> None:
    """Health settings for this process, and a first stored score for partners that
    have none (those that existed before migration 0011): the migration cannot run
    the health function itself."""
    from datetime import datetime, timezone

    from storage import health
    from storage.db import unit_of_work

    health.configure(settings)
    with unit_of_work() as session:
        health.refresh(session=session, now=datetime.now(timezone.utc), missing_only=True)


def database_problem(url: str, error: Exception | str) -> str:
    """One line naming the database (password hidden) and what is wrong with it."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # an unparsable URL: name the setting, not its text
        return "setting DATABASE_URL: not a database URL like sqlite:///partnerbot.db or postgresql+psycopg://user:pass@host/db"
    shown = parsed.render_as_string(hide_password=True)
    reason = (str(getattr(error, "orig", None) or error).strip() or type(error).__name__).splitlines()[0]
    if parsed.password:
        reason = reason.replace(parsed.password, "***")
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).resolve().parent
        if not folder.is_dir():
            reason = f"the directory {folder} does not exist"
        elif not os.access(folder, os.W_OK):
            reason = f"no permission to write in {folder} ({reason})"
    return f"cannot use the database {shown}: {reason}; check DATABASE_URL"


def require(settings: Settings, *names: str) -> None:
    """Refuse to start without these secrets (naming the setting, never its value)."""
    for name in names:
        if not settings.secret(name):
            alias = Settings.model_fields[name].alias
            raise SettingsError(f"setting {alias}: required for this command (see README, 'Settings')")
