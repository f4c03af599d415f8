"""Scheduled jobs against the fake Slack: selection, exactly-once, faults, catch-up."""

import io
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import web_client
from bot.slack import JobSlack
from jobs import delivery
from jobs.runner import dry_run, run_job
from storage import kpis, ledger, onboarding, partners, qbrs, requests
from storage.db import unit_of_work
from storage.models import JobRun, NotificationLedger
from tests.conftest import make_settings, texts

UTC = timezone.utc
# A Wednesday, 10:00 UTC.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def job_settings(database_url, fake_slack):
    fake_slack.reset()
    return make_settings(DATABASE_URL=database_url, SLACK_API_URL=fake_slack.api_url, PARTNERBOT_DIGEST_CHANNEL="C0DIGEST")


@pytest.fixture
def slack(job_settings):
    return JobSlack(web_client(job_settings), job_settings.zone)


def add_partner(name, *, owner="UOWNER1", type="channel", stage="active", created=NOW - timedelta(days=400)):
    with unit_of_work() as s:
        p = partners.create(session=s, name=name, type=type, tier=None, owner_id=owner, stage=stage, created_by=owner, now=created)
        return p.id


def ledger_rows():
    with unit_of_work() as s:
        return [tuple(r) for r in s.execute(select(NotificationLedger.job, NotificationLedger.subject, NotificationLedger.period, NotificationLedger.status))]


def test_qbr_reminder_in_owner_morning_exactly_once(job_settings, slack, fake_slack):
    pid = add_partner("Acme")
    with unit_of_work() as s:
        qbrs.schedule_qbr(session=s, partner_id=pid, day=date(2026, 11, 28), user_id="UOWNER1", now=NOW)
        qbrs.hold_qbr(session=s, partner_id=pid, today=date(2026, 11, 1), notes=None, user_id="UOWNER1", now=NOW)
    fake_slack.add_user("UOWNER1", tz="America/Los_Angeles")  # 02:00 there at NOW
    early = run_job("qbr-reminders", settings=job_settings, slack=slack, now=NOW)
    assert early.sent == 0 and fake_slack.calls_to("chat.postMessage") == []
    later = NOW + timedelta(hours=7)  # 09:00 in Los Angeles
    result = run_job("qbr-reminders", settings=job_settings, slack=slack, now=later)
    assert result.sent == 1
    (dm,) = fake_slack.calls_to("chat.postMessage")
    assert dm.args["channel"] == "UOWNER1"
    assert "QBR with *Acme* in 3 days (Saturday 2026-11-28)" in texts(dm.args["blocks"])
    again = run_job("qbr-reminders", settings=job_settings, slack=slack, now=later + timedelta(hours=1))
    assert (again.sent, again.skipped) == (0, 1)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_overdue_qbrs_grouped_to_digest_channel(job_settings, slack, fake_slack):
    add_partner("Old One")
    add_partner("Old Two")
    add_partner("Newbie", created=NOW - timedelta(days=10))
    run_job("qbr-reminders", settings=job_settings, slack=slack, now=NOW)
    (post,) = fake_slack.calls_to("chat.postMessage")
    body = texts(post.args["blocks"])
    assert post.args["channel"] == "C0DIGEST"
    assert "2 partners have had no QBR in 90 days" in body and "Old One" in body and "Newbie" not in body


def test_stalled_onboarding_dm_and_channel_name_the_step(job_settings, slack, fake_slack):
    pid = add_partner("Slowpoke", stage="onboarding", created=NOW - timedelta(days=30))
    with unit_of_work() as s:
        from storage.models import Partner

        p = s.get(Partner, pid)
        onboarding.mark_step(session=s, partner=p, step="agreement", user_id="UOWNER1", now=NOW - timedelta(days=20))
    add_partner("Moving", stage="onboarding", created=NOW - timedelta(days=3))
    fake_slack.add_user("UOWNER1", tz="UTC")
    result = run_job("stalled-onboarding", settings=job_settings, slack=slack, now=NOW)
    assert result.sent == 2
    posts = {c.args["channel"]: texts(c.args["blocks"]) for c in fake_slack.calls_to("chat.postMessage")}
    assert "has not moved in 20 days (stuck on *Portal access*)" in posts["UOWNER1"]
    assert "1 partner is stalled" in posts["C0DIGEST"] and "Moving" not in posts["C0DIGEST"]


def make_request(*, created, team="legal", claimed_at=None):
    pid = add_partner(f"Partner {created.isoformat()}")
    with unit_of_work() as s:
        r = requests.create(session=s, partner_id=pid, team=team, text="Need NDA", requester_id="UREQ1",
                            origin_channel_id="C1", due_on=None, now=created)
        requests.record_post(session=s, request_id=r.id, channel_id="C0LEGAL", ts="1700000000.000100", error=None)
        if claimed_at:
            requests.claim(session=s, request_id=r.id, user_id="ULAWYER", now=claimed_at)
        return r.id


def test_escalation_counts_business_hours_and_repeats_per_period(job_settings, slack, fake_slack):
    friday_noon = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    make_request(created=friday_noon)
    # Friday 12:00 → Monday 10:00 is 12 + 10 = 22 business hours: not yet.
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert run_job("request-escalations", settings=job_settings, slack=slack, now=monday).sent == 0
    tuesday = monday + timedelta(hours=3)  # 25 business hours
    assert run_job("request-escalations", settings=job_settings, slack=slack, now=tuesday).sent == 1
    (reply,) = fake_slack.calls_to("chat.postMessage")
    assert reply.args["thread_ts"] == "1700000000.000100" and reply.args["channel"] == "C0LEGAL"
    body = texts(reply.args["blocks"])
    assert "<@UREQ1>" in body and "<!channel>" not in body and "<!here>" not in body
    # Hourly runs within the same SLA period say nothing more.
    assert run_job("request-escalations", settings=job_settings, slack=slack, now=tuesday + timedelta(hours=1)).sent == 0
    assert run_job("request-escalations", settings=job_settings, slack=slack, now=tuesday + timedelta(hours=24)).sent == 1


def test_claimer_reminded_once_at_twice_the_sla(job_settings, slack, fake_slack):
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    make_request(created=start, claimed_at=start + timedelta(hours=1))
    assert run_job("request-escalations", settings=job_settings, slack=slack, now=start + timedelta(hours=40)).sent == 0
    assert run_job("request-escalations", settings=job_settings, slack=slack, now=start + timedelta(hours=50)).sent == 1
    assert "<@ULAWYER>" in texts(fake_slack.calls_to("chat.postMessage")[0].args["blocks"])
    assert run_job("request-escalations", settings=job_settings, slack=slack, now=start + timedelta(hours=80)).sent == 0


def seed_digest_data():
    acme = add_partner("Acme")
    globex = add_partner("Globex", stage="at-risk")
    with unit_of_work() as s:
        for pid, value in ((acme, "30000"), (globex, "10000")):
            kpis.set_kpi(session=s, partner_id=pid, metric="revenue", month="2026-11", value=Decimal(value), user_id="U1", now=NOW)
        kpis.set_target(session=s, partner_id=acme, metric="revenue", period="2026-Q4", value=Decimal("80000"), user_id="U1", now=NOW)
        partners.add_interaction(session=s, partner=s.get(__import__("storage.models", fromlist=["Partner"]).Partner, acme),
                                 kind="call", summary="x", author_id="U1", channel_id=None, now=datetime(2026, 11, 26, tzinfo=UTC))


def test_kpi_digest_numbers_chart_in_thread_and_change_since_last(job_settings, slack, fake_slack):
    seed_digest_data()
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    result = run_job("kpi-digest", settings=job_settings, slack=slack, now=monday)
    assert (result.sent, result.failed) == (2, 0)
    (post,) = fake_slack.calls_to("chat.postMessage")
    body = texts(post.args["blocks"])
    assert post.args["channel"] == "C0DIGEST" and "week 2026-W48" in body
    # Attainment over the partners with a target, as on their cards: Acme's $30K of its $80K.
    assert "*revenue* $40K · $30K of $80K target (38%)" in body
    assert "pace 65%: *behind*" in body  # 60 of the quarter's 92 days gone by the week's end
    assert "1. *Acme* $30K" in body and "*At risk (1)*, worst first\n• *Globex* (" in body
    assert "• <@UOWNER1> · 2 partners · revenue 38% of target (pace 65%): *behind* · 1 at risk" in body
    assert "*This week*: 1 interaction logged" in body
    (get_url,) = fake_slack.calls_to("files.getUploadURLExternal")
    assert get_url.args["filename"] == "attainment-2026-W48.png"
    (upload,) = fake_slack.calls_to("upload")
    assert upload.body[:8] == b"\x89PNG\r\n\x1a\n" or b"PNG" in upload.body[:200]
    (complete,) = fake_slack.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "C0DIGEST" and complete.args["thread_ts"] == post.args.get("ts", complete.args["thread_ts"])
    assert fake_slack.calls_to("files.upload") == []
    # Next week: the change on the week, from the KPI history.
    with unit_of_work() as s:
        kpis.set_kpi(session=s, partner_id=1, metric="revenue", month="2026-12", value=Decimal("5000"), user_id="U1", now=NOW)
    run_job("kpi-digest", settings=job_settings, slack=slack, now=monday + timedelta(days=7, hours=1))
    assert "*revenue* $45K · $35K of $80K target (44%)" in texts(fake_slack.calls_to("chat.postMessage")[1].args["blocks"])
    assert "+$5K on the week" in texts(fake_slack.calls_to("chat.postMessage")[1].args["blocks"])


def test_empty_digest_says_nothing_to_report(job_settings, slack, fake_slack):
    run_job("kpi-digest", settings=job_settings, slack=slack, now=datetime(2026, 11, 30, 9, tzinfo=UTC))
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert "nothing to report this week" in post.args["text"]
    assert fake_slack.calls_to("files.getUploadURLExternal") == []


def test_dry_run_prints_and_records_nothing(job_settings, fake_slack):
    seed_digest_data()
    out = io.StringIO()
    dry_run("kpi-digest", settings=job_settings, now=datetime(2026, 11, 30, 9, tzinfo=UTC), out=out)
    text = out.getvalue()
    assert "→ #C0DIGEST [digest · 2026-W48]" in text and "Partner digest · week 2026-W48" in text
    assert "[file attainment-2026-W48.png" in text
    assert ledger_rows() == [] and fake_slack.calls == []


def test_channel_error_does_not_stop_others_and_retry_sends_later(job_settings, slack, fake_slack):
    for n in range(3):
        pid = add_partner(f"P{n}", owner=f"UOWNER{n}")
        with unit_of_work() as s:
            qbrs.schedule_qbr(session=s, partner_id=pid, day=date(2026, 11, 27), user_id="U", now=NOW)
    fake_slack.fail_next("chat.postMessage", "channel_not_found")
    result = run_job("qbr-reminders", settings=job_settings, slack=slack, now=NOW)
    assert (result.sent, result.failed) == (2, 1)  # three DMs, one refused
    statuses = sorted(status for *_, status in ledger_rows())
    assert statuses.count("failed") == 1
    retried = run_job("retry", settings=job_settings, slack=slack, now=NOW + timedelta(minutes=15))
    assert retried.sent == 1
    assert all(status == "sent" for *_, status in ledger_rows())


def test_rate_limit_is_retried_after_retry_after(job_settings, slack, fake_slack, retry_clock):
    pid = add_partner("Acme")
    with unit_of_work() as s:
        qbrs.schedule_qbr(session=s, partner_id=pid, day=date(2026, 11, 27), user_id="U", now=NOW)
        qbrs.hold_qbr(session=s, partner_id=pid, today=date(2026, 11, 1), notes=None, user_id="U", now=NOW)
    fake_slack.rate_limit_next("chat.postMessage", retry_after=1)
    result = run_job("qbr-reminders", settings=job_settings, slack=slack, now=NOW)
    assert (result.sent, result.failed) == (1, 0)
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # the 429, then the retry
    assert len(retry_clock.slept) == 1 and retry_clock.slept[0] >= 1  # after Retry-After: 1


def test_server_error_marks_failed_for_retry(job_settings, slack, fake_slack):
    pid = add_partner("Acme")
    with unit_of_work() as s:
        qbrs.schedule_qbr(session=s, partner_id=pid, day=date(2026, 11, 27), user_id="U", now=NOW)
        qbrs.hold_qbr(session=s, partner_id=pid, today=date(2026, 11, 1), notes=None, user_id="U", now=NOW)
    fake_slack.server_error_next("chat.postMessage", status=503)
    assert run_job("qbr-reminders", settings=job_settings, slack=slack, now=NOW).failed == 1
    assert run_job("retry", settings=job_settings, slack=slack, now=NOW + timedelta(minutes=15)).sent == 1


def test_crash_between_claim_and_send_is_resent_once_by_retry(job_settings, slack, fake_slack):
    with unit_of_work() as s:
        assert ledger.claim(session=s, job="qbr-reminders", subject="qbr:99", period="reminder", target="UOWNER1",
                            payload=delivery.to_payload(__import__("jobs.base", fromlist=["Notification"]).Notification(
                                "qbr-reminders", "qbr:99", "reminder", "UOWNER1", "QBR soon", [])), now=NOW)
    assert run_job("retry", settings=job_settings, slack=slack, now=NOW + timedelta(minutes=5)).sent == 0  # not yet crashed
    assert run_job("retry", settings=job_settings, slack=slack, now=NOW + timedelta(minutes=11)).sent == 1
    assert run_job("retry", settings=job_settings, slack=slack, now=NOW + timedelta(minutes=30)).sent == 0
    assert [c.args["text"] for c in fake_slack.calls_to("chat.postMessage")] == ["QBR soon"]


def test_concurrent_runs_send_each_notification_once(job_settings, slack, fake_slack):
    for n in range(8):
        pid = add_partner(f"P{n}", owner=f"UOWNER{n}")
        with unit_of_work() as s:
            qbrs.schedule_qbr(session=s, partner_id=pid, day=date(2026, 11, 27), user_id="U", now=NOW)
            qbrs.hold_qbr(session=s, partner_id=pid, today=date(2026, 11, 1), notes=None, user_id="U", now=NOW)
    results = []
    threads = [threading.Thread(target=lambda: results.append(run_job("qbr-reminders", settings=job_settings, slack=slack, now=NOW)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in results) == 8
    assert sum(r.skipped for r in results) == 8 * 3
    channels = sorted(c.args["channel"] for c in fake_slack.calls_to("chat.postMessage"))
    assert channels == [f"UOWNER{n}" for n in range(8)]


def test_catch_up_runs_missed_jobs_once(job_settings, slack, fake_slack):
    from bot.scheduler import catch_up

    seed_digest_data()
    tuesday = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # Monday 09:00's digest was missed
    ran = catch_up(job_settings, slack, now=tuesday)
    assert "kpi-digest" in ran
    assert catch_up(job_settings, slack, now=tuesday + timedelta(minutes=10)) == []
    digests = [c for c in fake_slack.calls_to("chat.postMessage") if "Partner digest" in c.args.get("text", "")]
    assert len(digests) == 1
    with unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == "kpi-digest")) == 1


def test_hourly_schedule_across_dst_neither_skips_nor_doubles():
    from apscheduler.triggers.cron import CronTrigger

    from bot.scheduler import latest_fire_time

    berlin = ZoneInfo("Europe/Berlin")
    trigger = CronTrigger(minute=0, timezone=berlin)
    fires, cursor = [], trigger.get_next_fire_time(None, datetime(2026, 10, 24, 22, 30, tzinfo=UTC))
    while cursor < datetime(2026, 10, 25, 23, 30, tzinfo=UTC):
        fires.append(cursor.astimezone(UTC))
        cursor = trigger.get_next_fire_time(cursor, cursor.astimezone(UTC) + timedelta(seconds=1))
    assert len(fires) == 25 and len(set(fires)) == 25  # the fall-back day has 25 hours: one run each, none doubled
    assert latest_fire_time(trigger, since=datetime(2026, 10, 25, 0, 0, tzinfo=UTC), now=datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)


def test_log_next_sets_a_follow_up_dm_on_that_day(job_settings, slack, fake_slack):
    from bot.dispatch import run_command
    from commands import Caller
    from tests.test_trust import Quiet

    add_partner("Acme")
    reply = run_command("log acme call talked pricing next:2026-11-27", caller=Caller("UOWNER1"), settings=job_settings,
                        slack=Quiet(), now=NOW)
    assert "the owner gets a reminder on Fri 2026-11-27" in texts(reply.blocks)
    with unit_of_work() as s:
        from storage.models import Interaction

        assert s.scalar(select(Interaction.summary)) == "talked pricing"
    assert "in the past" in texts(run_command("log acme call x next:2020-01-01", caller=Caller("UOWNER1"), settings=job_settings,
                                              slack=Quiet(), now=NOW).blocks)
    fake_slack.add_user("UOWNER1", tz="UTC")
    assert run_job("qbr-reminders", settings=job_settings, slack=slack, now=datetime(2026, 11, 26, 9, tzinfo=UTC)).sent == 1  # overdue list only
    run_job("qbr-reminders", settings=job_settings, slack=slack, now=datetime(2026, 11, 27, 9, tzinfo=UTC))
    run_job("qbr-reminders", settings=job_settings, slack=slack, now=datetime(2026, 11, 27, 10, tzinfo=UTC))
    dms = [c for c in fake_slack.calls_to("chat.postMessage") if c.args["channel"] == "UOWNER1"]
    assert len(dms) == 1 and "Follow up with *Acme* today" in texts(dms[0].args["blocks"])


@pytest.mark.parametrize("job", ["qbr-reminders", "stalled-onboarding", "request-escalations", "kpi-digest", "retry"])
def test_statements_per_job_do_not_grow_with_partners(job_settings, job):
    """No N+1: the same number of SELECTs for 30 partners as for 150."""
    import io

    from sqlalchemy import event

    from storage import db

    def selects_with(count):
        from sqlalchemy import delete

        from storage import demo
        from storage.models import Partner

        with unit_of_work() as s:
            s.execute(delete(Partner))  # cascades to everything partner-owned
            demo.seed(session=s, partners=count, seed=count, now=NOW)
        counter = []

        def on_execute(conn, cursor, statement, params, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                counter.append(statement)

        engine = db.engine()
        event.listen(engine, "before_cursor_execute", on_execute)
        try:
            dry_run(job, settings=job_settings, now=NOW, out=io.StringIO())
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
        return len(counter)

    small = selects_with(30)
    assert selects_with(150) == small


def test_escalation_mentions_the_teams_user_group_never_channel(job_settings, slack, fake_slack):
    from storage.models import Route

    make_request(created=datetime(2026, 11, 23, 9, tzinfo=UTC))
    with unit_of_work() as s:
        s.add(Route(team="legal", channel_id="C0LEGAL", usergroup_id="S0LEGAL", updated_by="UADMIN1", updated_at=NOW))
    run_job("request-escalations", settings=job_settings, slack=slack, now=datetime(2026, 11, 24, 12, tzinfo=UTC))
    (reply,) = fake_slack.calls_to("chat.postMessage")
    body = texts(reply.args["blocks"])
    assert "<!subteam^S0LEGAL>" in body and "<@UREQ1>" in body
    assert "<!channel>" not in body and "<!here>" not in body and "<!everyone>" not in body


def test_posts_to_one_channel_are_a_second_apart_and_other_channels_do_not_wait(job_settings, slack, fake_slack, pacing_clock):
    from jobs.base import JobResult, Notification

    notes = [Notification("kpi-digest", f"s{n}", "2026-W48", target, f"post {n}")
             for n, target in enumerate(["C0DIGEST", "C0OTHER", "C0DIGEST", "C0DIGEST"])]
    result = JobResult("kpi-digest", NOW)
    delivery.deliver(notes, sender=delivery.Sender(slack), result=result, now=NOW)
    assert result.sent == 4
    assert [c.args["text"] for c in fake_slack.calls_to("chat.postMessage")] == ["post 0", "post 1", "post 2", "post 3"]
    # C0OTHER went out at once; each later post to C0DIGEST waited the rest of its second.
    assert len(pacing_clock.slept) == 2 and all(0 < s <= delivery.SAME_CHANNEL_GAP for s in pacing_clock.slept)
    assert pacing_clock.now >= 2 * delivery.SAME_CHANNEL_GAP
