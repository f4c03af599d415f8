"""JSON connector: GET PARTNERBOT_CRM_URL → {"deals": [...], "next": url|null}, bearer token bound to that origin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from urllib.parse import urljoin, urlsplit

from core.settings import Settings
from jobs.crm.base import Deal, SyncError, bearer, decimal_or_none
from jobs.crm.http import call

MAX_PAGES = 10_000


class JsonSource:
    def __init__(self, settings: Settings, *, sleep=None):
        self.settings, self.sleep = settings, sleep
        self.headers = bearer(settings)

    def _page(self, url: str, origin: tuple) -> tuple[list, str | None]:
        """One page's rows and the next page's address (checked to stay on the token's origin)."""
        try:
            data = call("GET", url, settings=self.settings, sleep=self.sleep, headers=self.headers).json()
            rows, following = data["deals"], data.get("next")
            url = urljoin(url, following) if following else None
        except (ValueError, KeyError, TypeError):
            raise SyncError('the JSON source must return {"deals": [...], "next": url or null}') from None
        if url and _origin(url) != origin:
            # The bearer token belongs to the configured origin; a `next` elsewhere would hand it over.
            raise SyncError(f"the JSON source's `next` page is on {urlsplit(url).hostname or 'another host'}, not on "
                            f"the origin of PARTNERBOT_CRM_URL ({origin[0]}://{origin[1]}:{origin[2]}); "
                            "the token is only sent there")
        return rows, url

    def deals(self, start: datetime, end: datetime) -> Iterator[Deal]:
        url: str | None = self.settings.crm_url
        origin = _origin(url or "")
        first, last = start.astimezone(self.settings.zone).date(), end.astimezone(self.settings.zone).date()
        pages = 0
        while url:
            pages += 1
            if pages > MAX_PAGES:
                raise SyncError("the JSON source kept returning `next` pages")
            rows, url = self._page(url, origin)
            for row in rows:
                try:
                    closed_on = date.fromisoformat(row["closed_at"])
                except (KeyError, TypeError, ValueError):
                    raise SyncError(f"deal {row.get('id')!r} has no closed_at date (YYYY-MM-DD)") from None
                if first <= closed_on < last:
                    attribution = "influenced" if row.get("attribution") == "influenced" else "sourced"
                    yield Deal(str(row.get("id")), row.get("partner") or None, decimal_or_none(row.get("amount")), closed_on, attribution)


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port filled in: what the token is bound to."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1  # unreadable: matches nothing valid
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or {"https": 443, "http": 80}.get(scheme)
