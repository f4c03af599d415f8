"""What every CRM connector yields and how a sync fails."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol


class SyncError(Exception):
    """The sync could not finish; nothing was written."""


@dataclass(frozen=True)
class Deal:
    id: str
    partner: str | None
    amount: Decimal | None
    closed_on: date
    attribution: str = "sourced"


class Connector(Protocol):
    def deals(self, start: datetime, end: datetime) -> Iterator[Deal]: ...


def decimal_or_none(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def bearer(settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.crm_token.get_secret_value() if settings.crm_token else ''}"}
