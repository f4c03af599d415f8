"""HubSpot connector: closed-won deals from the CRM search API, split by time when a search would pass its cap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from core.settings import Settings
from jobs.crm.base import Deal, SyncError, bearer, decimal_or_none
from jobs.crm.http import Throttle, call

SEARCH_LIMIT = 10_000  # HubSpot returns at most this many results for one search
PAGE_SIZE = 100
HUBSPOT_THROTTLE = Throttle(4.0)


class HubSpot:
    def __init__(self, settings: Settings, *, sleep=None):
        self.settings, self.sleep = settings, sleep
        self.url = (settings.crm_url or "https://api.hubapi.com").rstrip("/") + "/crm/v3/objects/deals/search"
        self.headers = bearer(settings)

    def _body(self, start: datetime, end: datetime, after: str | None, limit: int) -> dict:
        filters = [
            {"propertyName": "closedate", "operator": "GTE", "value": str(int(start.timestamp() * 1000))},
            {"propertyName": "closedate", "operator": "LT", "value": str(int(end.timestamp() * 1000))},
        ]
        if self.settings.crm_won_stages:
            filters.append({"propertyName": "dealstage", "operator": "IN", "values": self.settings.crm_won_stages})
        else:
            filters.append({"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"})
        body = {
            "filterGroups": [{"filters": filters}],
            "properties": ["amount", "amount_in_home_currency", "closedate", "hs_is_closed_won", "dealstage",
                           self.settings.crm_partner_property],
            "sorts": [{"propertyName": "closedate", "direction": "ASCENDING"}],
            "limit": limit,
        }
        if after:
            body["after"] = after
        return body

    def _search(self, start: datetime, end: datetime, after: str | None, limit: int = PAGE_SIZE) -> dict:
        answer = call("POST", self.url, settings=self.settings, throttle=HUBSPOT_THROTTLE, sleep=self.sleep,
                      json=self._body(start, end, after, limit), headers=self.headers)
        try:
            return answer.json()
        except ValueError:
            raise SyncError("HubSpot answered something that is not JSON") from None

    def deals(self, start: datetime, end: datetime) -> Iterator[Deal]:
        first = self._search(start, end, None)
        if first.get("total", 0) > SEARCH_LIMIT and end - start > timedelta(days=1):
            middle = start + (end - start) / 2
            yield from self.deals(start, middle)
            yield from self.deals(middle, end)
            return
        page = first
        while True:
            for item in page.get("results", []):
                yield self._deal(item)
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            page = self._search(start, end, after)

    def _deal(self, item: dict) -> Deal:
        props = item.get("properties") or {}
        closed = props.get("closedate") or ""
        try:
            closed_at = datetime.fromisoformat(closed.replace("Z", "+00:00"))
        except ValueError:
            raise SyncError(f"deal {item.get('id')} has an unreadable closedate {closed!r}") from None
        home = decimal_or_none(props.get("amount_in_home_currency"))
        amount = home if home is not None else decimal_or_none(props.get("amount"))
        closed_on = closed_at.astimezone(self.settings.zone).date()
        return Deal(str(item.get("id")), props.get(self.settings.crm_partner_property) or None, amount, closed_on)
