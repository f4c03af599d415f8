"""Events API de-duplication: by `event_id`, not by Slack's retry header."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from slack_bolt import BoltResponse

from storage import events
from storage.db import unit_of_work


def skip_seen_events(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse | None:
    """Slack redelivers an event when our answer to it was slow or failed
    (X-Slack-Retry-Num), so a retry may be the first delivery we ever received:
    handle an event the first time its id arrives, and never again."""
    event_id = body.get("event_id")
    if body.get("type") == "event_callback" and isinstance(event_id, str) and 0 < len(event_id) <= 255:
        # Its own short unit of work, finished before the listener (another thread) starts.
        with unit_of_work() as session:
            first = events.first_delivery(session=session, event_id=event_id, now=datetime.now(timezone.utc))
        if not first:
            return BoltResponse(status=200, body="")
    return next()
