"""Mistakes a user can fix. The one error handler renders these; bugs propagate."""

from __future__ import annotations


class UserError(Exception):
    """A message for the person who typed the command, plus the usage to show."""

    def __init__(self, message: str, *, usage: str | None = None, suggestions: list[str] | None = None,
                 field: str | None = None):
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.suggestions = suggestions or []
        self.field = field  # on a form: the input (block_id) the mistake is shown under


class NotAllowed(UserError):
    """The caller may not do this; nothing was changed."""
