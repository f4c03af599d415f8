"""HTTP to the CRM through the SSRF-safe client (core.outbound), with retries and a per-process throttle."""

from __future__ import annotations

import logging
import threading
import time

import httpx

from core import outbound
from core.settings import Settings
from jobs.crm.base import SyncError

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6  # the first try and 5 retries
_sleep = time.sleep  # tests replace this, not the global time.sleep


class Throttle:
    """At most `rate` requests a second from this process (HubSpot allows ~4/s per token)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


def _verdict(answer: outbound.Answer, delay: float) -> tuple[str, float] | None:
    """None when the answer is good; (problem, wait) when it is worth another try; raises when it is not."""
    if answer.status == 429:
        retry_after = answer.headers.get("Retry-After")
        return "rate limited (429)", float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else delay
    if answer.status >= 500:
        return f"HTTP {answer.status}", delay
    if answer.status >= 400:
        # Never the body: a CRM may echo the request (and its Authorization header) back.
        hint = "; check PARTNERBOT_CRM_TOKEN" if answer.status in (401, 403) else ""
        raise SyncError(f"the CRM answered HTTP {answer.status}{hint}")
    if answer.status >= 300:
        raise SyncError(f"the CRM answered a redirect (HTTP {answer.status}); redirects are not followed "
                        "with the token: set PARTNERBOT_CRM_URL to the final address")
    return None


def call(method: str, url: str, *, settings: Settings, throttle: Throttle | None = None, sleep=None, **kwargs) -> outbound.Answer:
    """Retry 429 after Retry-After (else 1 s doubling to 30 s), 5xx and timeouts, at most 5 times."""
    delay = 1.0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if throttle:
            throttle.wait()
        try:
            answer = outbound.request(method, url, allow_private=settings.allow_private_urls, **kwargs)
        except outbound.Refused as refused:
            raise SyncError(f"refused: {refused}") from None
        except (httpx.TimeoutException, httpx.TransportError) as error:
            problem, wait = f"network error ({type(error).__name__})", delay
        else:
            retry = _verdict(answer, delay)
            if retry is None:
                return answer
            problem, wait = retry
        if attempt == MAX_ATTEMPTS:
            raise SyncError(f"the CRM kept failing: {problem}")
        log.info("CRM %s; retrying in %.1f s", problem, wait)
        (sleep or _sleep)(min(wait, 30.0))
        delay = min(delay * 2, 30.0)
    raise AssertionError("unreachable")
