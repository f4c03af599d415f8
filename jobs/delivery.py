"""Effectively-once delivery of notifications (SPEC §7, §9): the one way out to
Slack, for jobs and for what commands send once their change has committed.

For each notification: claim a ledger row unique on (job, subject, period) and
commit; call Slack; mark the row `sent` (channel, ts) or `failed`. A row that
already exists belongs to an earlier run or another replica: not sent again.
The `retry` job re-sends `failed` rows, and `claimed` rows older than 10
minutes (a process that crashed), for up to 24 hours.

The one remaining duplicate window: a crash after Slack answered ok and before
`sent` was committed. The row stays `claimed`, and the retry job sends it once more.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from core.messenger import NOT_OURS, Notification, Posted
from jobs.base import JobResult
from storage import ledger, partners, requests
from storage.db import unit_of_work
from views.text import context

log = logging.getLogger(__name__)
# A partner-facing message whose partner is no longer linked to the channel it was for.
UNLINKED = "partner_channel_unlinked"
SAME_CHANNEL_GAP = 1.0  # seconds between posts to one channel in a burst
FIXES = {
    "not_in_channel": "invite the bot to that channel (/invite @partnerbot)",
    "channel_not_found": "check the channel ID, or invite the bot if the channel is private",
    "is_archived": "the channel is archived; point the setting at a live channel",
}


def to_payload(n: Notification) -> str:
    data: dict = {"text": n.text, "blocks": n.blocks, "thread_ts": n.thread_ts, "thread_of": n.thread_of,
                  "update_ts": n.update_ts, "link": n.link, "link_to": n.link_to, "link_to_sent": n.link_to_sent,
                  "partner_id": n.partner_id, "pin": n.pin}
    if n.file:
        name, title, content = n.file
        data["file"] = [name, title, base64.b64encode(content).decode()]
    return json.dumps(data)


def _parent(job: str, period: str, stored: str | list | None) -> tuple[str, str, str] | None:
    """A stored thread parent: a ledger key, or (rows of older versions) a subject of the same job and period."""
    if not stored:
        return None
    return (job, stored, period) if isinstance(stored, str) else (stored[0], stored[1], stored[2])


def from_payload(job: str, subject: str, period: str, target: str, payload: str) -> Notification:
    """The notification a ledger row holds. Keys it no longer has a use for are passed
    over: a row stored by an older version (the v1 digest's "meta" totals) still sends."""
    data = json.loads(payload)
    file = data.get("file")
    return Notification(
        job=job, subject=subject, period=period, target=target, text=data["text"], blocks=data["blocks"],
        thread_ts=data.get("thread_ts"), thread_of=_parent(job, period, data.get("thread_of")),
        file=(file[0], file[1], base64.b64decode(file[2])) if file else None,
        update_ts=data.get("update_ts"), link=bool(data.get("link")),
        link_to=tuple(data["link_to"]) if data.get("link_to") else None,
        link_to_sent=tuple(data["link_to_sent"]) if data.get("link_to_sent") else None,
        partner_id=data.get("partner_id"), pin=bool(data.get("pin")),
    )


class Clock:
    """Real time, what pacing waits on; tests put a fake clock in its place."""

    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)


class Sender:
    """Sends one notification through the job messenger, pacing posts per channel."""

    clock: Clock = Clock()  # every Sender's, unless one is given

    def __init__(self, slack, *, clock: Clock | None = None):
        self.slack = slack
        if clock is not None:
            self.clock = clock
        self._last: dict[str, float] = {}

    def _pace(self, channel: str) -> None:
        wait = self._last.get(channel, float("-inf")) + SAME_CHANNEL_GAP - self.clock.monotonic()
        if wait > 0:
            self.clock.sleep(wait)
        self._last[channel] = self.clock.monotonic()

    def send(self, n: Notification) -> Posted:
        channel, thread_ts = n.target, n.thread_ts
        if n.thread_of:
            job, subject, period = n.thread_of
            with unit_of_work(read_only=True) as session:
                parent_channel, parent_ts = ledger.sent_ts(session=session, job=job, subject=subject, period=period)
            if not parent_ts:  # failed for now: the retry job sends it once its parent is out
                return Posted(False, channel=channel, error="parent_not_sent")
            channel, thread_ts = parent_channel or channel, parent_ts
        if n.partner_id is not None:
            # Partner-facing: only while this channel is still the partner's, and its alone.
            with unit_of_work(read_only=True) as session:
                linked = partners.linked_to(session=session, channel_id=channel)
            if linked is None or linked.id != n.partner_id:
                return Posted(False, channel=channel, error=UNLINKED)
        self._pace(channel)
        if n.file:
            name, title, content = n.file
            return self.slack.upload(channel, thread_ts, name, title, content)
        blocks = n.blocks
        link_to = n.link_to
        if n.link_to_sent:
            job, subject, period, label = n.link_to_sent
            with unit_of_work(read_only=True) as session:
                sent_channel, sent_ts = ledger.sent_ts(session=session, job=job, subject=subject, period=period)
            link_to = (sent_channel, sent_ts, label) if sent_channel and sent_ts else None
        if link_to and (permalink := self.slack.permalink(link_to[0], link_to[1])):
            blocks = [*blocks, context(f"<{permalink}|{link_to[2]}>")]
        safe = n.partner_id is not None
        if n.update_ts:
            posted = self.slack.update(channel, n.update_ts, n.text, blocks, partner_safe=safe)
        else:
            posted = self.slack.post(channel, n.text, blocks, thread_ts=thread_ts, partner_safe=safe)
        if posted.ok and n.pin and posted.channel and posted.ts:
            self.slack.pin(posted.channel, posted.ts)
        if posted.ok and n.link and posted.channel and posted.ts:
            posted = Posted(True, channel=posted.channel, ts=posted.ts, link=self.slack.permalink(posted.channel, posted.ts))
        return posted


def _record(n: Notification, posted: Posted, result: JobResult | None, now: datetime) -> None:
    with unit_of_work() as session:
        ledger.mark(session=session, job=n.job, subject=n.subject, period=n.period, ok=posted.ok,
                    channel=posted.channel, ts=posted.ts, error=posted.error, now=now)
        if n.job == requests.POST_JOB:  # a request's own message: the request learns where it is
            requests.record_post(session=session, request_id=int(n.subject.split(":")[1]), channel_id=n.target,
                                 ts=posted.ts, error=posted.error)
    if result is not None:
        result.sent += posted.ok
        result.failed += not posted.ok
    if not posted.ok:
        fix = FIXES.get(posted.error or "", "it will be retried by the retry job")
        log.warning("job=%s subject=%s target=%s failed: %s — %s", n.job, n.subject, n.target, posted.error, fix)


def claim(n: Notification, *, session: Session, now: datetime) -> bool:
    """Own the notification's ledger row (in the caller's transaction): True when this process sends it."""
    claimed = ledger.claim(session=session, job=n.job, subject=n.subject, period=n.period, target=n.target,
                           payload=to_payload(n), now=now)
    if not claimed and n.retake:
        claimed = ledger.retake(session=session, job=n.job, subject=n.subject, period=n.period,
                                target=n.target, payload=to_payload(n), now=now)
    return claimed


def _superseded(n: Notification) -> bool:
    """An in-place update that a newer one of the same message replaces: retired, never sent
    (sending it late would show old news over the newer state)."""
    with unit_of_work() as session:
        row = ledger.row_of(session=session, job=n.job, subject=n.subject, period=n.period)
        if row is None or not ledger.superseded(session=session, row=row):
            return False
        ledger.retire(session=session, row_id=row.id)
        return True


def claim_all(notifications: list[Notification], *, session: Session, now: datetime) -> list[bool]:
    """Claim each notification in the caller's transaction; which ones this process now owns."""
    return [claim(n, session=session, now=now) for n in notifications]


def deliver(notifications: Iterable[Notification], *, sender: Sender, result: JobResult, now: datetime) -> None:
    for n in notifications:
        with unit_of_work() as session:
            claimed = claim(n, session=session, now=now)
        if not claimed:
            result.skipped += 1
            continue
        _record(n, sender.send(n), result, now)


def send_claimed(notifications: list[Notification], owned: list[bool], *, sender: Sender, now: datetime) -> list[Posted]:
    """Send what a command claimed in its own transaction (now committed); one outcome per notification."""
    outcomes = []
    for n, mine in zip(notifications, owned):
        if not mine:
            outcomes.append(Posted(False, channel=n.target, error=NOT_OURS))
            continue
        if n.update_ts and _superseded(n):  # a newer update of that message was claimed meanwhile
            outcomes.append(Posted(False, channel=n.target, error="superseded"))
            continue
        posted = sender.send(n)
        _record(n, posted, None, now)
        outcomes.append(posted)
    return outcomes


def retry(*, sender: Sender, result: JobResult, now: datetime) -> None:
    """Re-send failed and crashed notifications of the last 24 hours, each by one process."""
    with unit_of_work() as session:
        rows = ledger.retryable(session=session, now=now)
    result.considered = len(rows)
    for row in rows:
        with unit_of_work() as session:
            won = ledger.reclaim(session=session, row=row, now=now)
        if not won:
            result.skipped += 1
            continue
        n = from_payload(row.job, row.subject, row.period, row.target, row.payload)
        if n.update_ts and _superseded(n):  # a later update of that message went out (or is going)
            result.skipped += 1
            continue
        _record(n, sender.send(n), result, now)
