"""`webhook-delivery` (every minute, and right after a change): POST outbox events.

Each attempt is signed afresh: `X-Partnerbot-Timestamp: <unix seconds>` and
`X-Partnerbot-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`;
the body (with its `id` and `occurred_at`) never changes. Network errors,
timeouts, 408, 429 and 5xx are retried after 10 s, doubling, capped at an hour,
for 24 hours, then the event is dead. Other 4xx are permanent. At-least-once:
receivers de-duplicate by `id`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import datetime, timedelta

import httpx

from core import outbound
from core.settings import Settings
from jobs.base import JobResult
from storage import webhooks
from storage.db import unit_of_work

JOB_ID = "webhook-delivery"
FIRST_RETRY = timedelta(seconds=10)
MAX_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
RETRYABLE = {408, 429}
log = logging.getLogger(__name__)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), MAX_RETRY)


def deliver_due(*, settings: Settings, now: datetime, result: JobResult | None = None) -> JobResult:
    result = result or JobResult(job=JOB_ID, as_of=now)
    secrets = {h.url: h.secret.get_secret_value() for h in settings.webhooks}
    with unit_of_work() as session:
        rows = webhooks.due(session=session, now=now)
    result.considered += len(rows)
    for row in rows:
        with unit_of_work() as session:
            if not webhooks.lease(session=session, row=row, now=now):
                result.skipped += 1
                continue
        attempts = row.attempts + 1
        status, error, retry_at = _attempt(row.url, row.body.encode(), secrets.get(row.url), settings, attempts)
        if status == "pending" and now - row.created_at >= GIVE_UP_AFTER:
            status = "dead"
        with unit_of_work() as session:
            webhooks.settle(session=session, row_id=row.id, status=status, error=error,
                            next_attempt_at=now + retry_at if retry_at else None, now=now)
        if status == "delivered":
            result.sent += 1
        else:
            result.failed += 1
            if status in ("failed", "dead"):
                log.warning("webhook %s to %s is %s: %s", row.event_type, _host(row.url), status, error)
    return result


def _host(url: str) -> str:
    return httpx.URL(url).host


def _attempt(url: str, body: bytes, secret: str | None, settings: Settings, attempts: int):
    if secret is None:
        return "dead", "the subscriber is no longer configured", None
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Partnerbot-Timestamp": str(timestamp),
        "X-Partnerbot-Signature": signature(secret, timestamp, body),
    }
    try:
        answer = outbound.request("POST", url, content=body, headers=headers,
                                  allow_private=settings.allow_private_urls, max_body=64 * 1024)
    except outbound.Refused as refused:
        return "failed", str(refused), None
    except (httpx.TimeoutException, httpx.TransportError) as error:
        return "pending", f"network: {type(error).__name__}", backoff(attempts)
    if 200 <= answer.status < 300:
        return "delivered", None, None
    if answer.status in RETRYABLE or answer.status >= 500:
        return "pending", f"HTTP {answer.status}", backoff(attempts)
    return "failed", f"HTTP {answer.status} (not retried)", None


_kicker = None


def kick(settings: Settings) -> None:
    """Deliver right after a change, off the request thread (the job catches anything missed)."""
    global _kicker
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timezone

    if not settings.webhooks:
        return
    if _kicker is None:
        _kicker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhooks")

    def run() -> None:
        try:
            deliver_due(settings=settings, now=datetime.now(timezone.utc))
        except Exception:  # the minute job retries; never break the caller
            log.exception("webhook delivery after a change failed")

    _kicker.submit(run)
