"""Logging for every entry point: no secret and no forged line reaches the log.

`setup_logging(settings)` (called by `partnerbot` for every command that has
settings, and again by the long-running ones with their level) installs:

- a record factory that scrubs every record the moment it is made — message
  with its arguments, traceback and stack — so handlers that are not ours
  (gunicorn's, a library's) never see a secret either;
- on our stderr handler, the same filter once more, for `extra` fields (the
  logging module adds them after the factory has run).

Scrubbed are every secret the settings hold (each SecretStr: Slack tokens and
signing secret, CRM token, webhook secrets, and the database password) and any
Slack-token shape (`xox?-…`, `xapp-…`) or `Bearer …` value. Control characters
in messages and fields are escaped (`\\n` becomes the two characters `\\n`), so a
logged value never starts a new line; a traceback keeps its lines, indented,
so none of them can pass for a record of its own.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable

from pydantic import BaseModel, SecretStr

REDACTED = "[redacted]"
# Slack tokens (bot, user, app-level, config, refresh) and bearer credentials, whoever they belong to.
SHAPES = re.compile(r"\b(?:xox[a-z]|xapp|xoxe\.xox[a-z])-[A-Za-z0-9-]+|(?P<bearer>\b(?i:bearer)\s+)[^\s\"',;]+")
# C0, DEL, C1, and the Unicode line and paragraph separators: each could end a line on some terminal or collector.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
MIN_SECRET = 6  # shorter values would redact ordinary words
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "_partnerbot_clean"}


def escape_controls(text: str) -> str:
    return CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                                          else f"\\u{ord(m.group()):04x}"), text)


def known_secrets(settings) -> list[str]:
    """Every secret value the settings hold, found by type, so a new SecretStr setting is covered too."""
    found: list[str] = []

    def walk(value) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    if settings is not None:
        walk(settings)
        password = _database_password(getattr(settings, "database_url", None))
        if password:
            found.append(password)
    return found


def _database_password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password
    except Exception:  # an unreadable URL is reported by the settings check, not here
        return None


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()):
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return SHAPES.sub(lambda m: (m.group("bearer") or "") + REDACTED, text)

    def line(self, text: str) -> str:
        """A value for inside one log line: scrubbed, control characters escaped."""
        return escape_controls(self.scrub(text))

    def block(self, text: str) -> str:
        """A traceback or stack (printed below the message): scrubbed, its lines kept but indented."""
        return "\n".join("  " + escape_controls(part) for part in self.scrub(text).split("\n"))


class RedactSecrets(logging.Filter):
    """Scrubs a record in place (message, args, traceback, stack, extra fields); never drops one."""

    def __init__(self, redactor: Redactor | None = None):
        super().__init__()
        self.redactor = redactor or Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        clean(record, self.redactor)
        return True


def clean(record: logging.LogRecord, redactor: Redactor) -> logging.LogRecord:
    if not getattr(record, "_partnerbot_clean", False):
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep both, scrubbed, without failing
            message = f"{record.msg} (arguments that do not fit: {record.args!r})"
        record.msg, record.args = redactor.line(str(message)), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redactor.block(record.exc_text)
        record.exc_info = None  # the text above is the traceback now; nothing formats the raw one again
        if record.stack_info:
            record.stack_info = redactor.block(record.stack_info)
        record._partnerbot_clean = True
    for name, value in list(record.__dict__.items()):
        if name in _STANDARD or isinstance(value, (bool, int, float)) or value is None:
            continue
        text = value if isinstance(value, str) else str(value)
        cleaned = redactor.line(text)
        if cleaned != text:
            record.__dict__[name] = cleaned
    return record


_redactor = Redactor()
_installed = False


def install(secrets: Iterable[str]) -> Redactor:
    """Scrub every record this process makes from now on (idempotent; the latest secrets win)."""
    global _redactor, _installed
    _redactor = Redactor(secrets)
    if not _installed:
        make = logging.getLogRecordFactory()

        def factory(*args, **kwargs) -> logging.LogRecord:
            return clean(make(*args, **kwargs), _redactor)

        logging.setLogRecordFactory(factory)
        _installed = True
    return _redactor


class _Filter(RedactSecrets):
    """The handler filter follows the installed redactor (settings may be reloaded)."""

    def filter(self, record: logging.LogRecord) -> bool:
        clean(record, _redactor)
        return True


def setup_logging(settings, level: int = logging.INFO) -> None:
    """One stderr handler on the root logger, scrubbed as above; calling it again only changes the level."""
    install(known_secrets(settings))
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Filter())
    handler._partnerbot = True
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not getattr(h, "_partnerbot", False)] + [handler]
    root.setLevel(level)
