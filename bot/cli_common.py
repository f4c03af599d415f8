"""What every `partnerbot` subcommand shares: its one error type, the database
check and upgrade before it starts, and required settings."""

from __future__ import annotations

import argparse
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


# The offline demo (`make run` without tokens, `jobs run --demo`) lives in its own file,
# never in DATABASE_URL (SPEC §9), and posts its digest to a channel of its own.
DEMO_DATABASE = "sqlite:///partnerbot-demo.db"
DEMO_DIGEST_CHANNEL = "C0PARTNERS"


def open_demo(settings: Settings) -> Settings:
    """The demo workspace ready to use (migrated, seeded when empty) and the settings it
    runs with: you are its admin, the three default teams and the digest have channels."""
    from storage import demo
    from storage.db import unit_of_work

    prepare(settings, DEMO_DATABASE)
    with unit_of_work() as session:
        if demo.is_empty(session=session):
            demo.seed(session=session, partners=12, seed=1)
    return settings.model_copy(update={
        "database_url": DEMO_DATABASE,
        "admins": [demo.DEMO_ADMIN],
        "routes": settings.routes or dict(demo.DEMO_ROUTES),
        "digest_channel": settings.digest_channel or DEMO_DIGEST_CHANNEL,
    })


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


# Where each secret comes from, so the refusal says what to do, not only what is missing.
WHERE_TO_GET = {
    "slack_bot_token": "the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page",
    "slack_signing_secret": "the Signing Secret from your app's Basic Information → App Credentials",
    "slack_app_token": "an app-level token (xapp-…) with connections:write from Basic Information → App-Level Tokens",
}


def require(settings: Settings, *names: str) -> None:
    """Refuse to start without these secrets, naming every missing one at once (never a value)."""
    problems = missing([name for name in names if not settings.secret(name)])
    if problems:
        raise SettingsError(problems)


def missing(names: list[str]) -> list[str]:
    return [
        f"setting {Settings.model_fields[name].alias}: required for this command; put "
        f"{WHERE_TO_GET.get(name, 'it')} in .env or the environment"
        for name in names
    ]


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings a command runs with. Malformed settings and the Slack secrets the
    command requires (`requires` in its parser defaults) are refused together."""
    from core.settings import get_settings, slack_secrets_set

    required = getattr(args, "requires", ())
    try:
        settings = get_settings()
    except SettingsError as error:
        present = slack_secrets_set()
        raise SettingsError(error.problems + missing([name for name in required if name not in present])) from None
    require(settings, *required)
    return settings
