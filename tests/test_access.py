"""Who may see the partner record, and where it may be posted (issue 11, items 4–8, 13, 14).

Through the real HTTP door: guests, people of another organisation, strangers and
people outside PARTNERBOT_USERS try every listener; Slack answering users.info or
conversations.info with errors means no; a channel shared with another
organisation never receives partner data, decided at post time."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.access import ACK_BUDGET, GUEST, NOT_LISTED, OUTSIDER, UNKNOWN
from bot.app import web_client
from bot.slack import JobSlack
from views.ids import Action, Shortcut, View
from jobs.runner import run_job
from storage import ledger, partners, requests
from storage.db import unit_of_work
from storage.models import Base, HelpRequest, NotificationLedger
from tests.conftest import make_settings, serve, texts

SECRET_NOTE = "discount floor 42 percent"


def row_counts() -> dict[str, int]:
    with unit_of_work() as s:
        # seen_events is the Events API de-duplication log, not the partner record.
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
                if t.name != "seen_events"}


def seed(slack_app) -> None:
    """A partner with a private note, a routed team, and one request on record."""
    slack_app.command('add "Acme Corp" type:channel', user="UOWNER1")
    slack_app.command(f"log acme note {SECRET_NOTE}", user="UOWNER1")
    slack_app.command("route legal <#C0LEGAL|legal>", user="UADMIN1")
    slack_app.command("ask legal acme review the reseller addendum", user="UOWNER1")
    slack_app.fake.reset_calls()


def record_leaked(fake) -> list[str]:
    """Any trace of the partner record in what Slack received (messages, views, responses)."""
    leaks = []
    for call in fake.calls:
        blob = json.dumps(call.args)
        for secret in ("Acme", SECRET_NOTE, "legal", "reseller addendum"):
            if secret in blob:
                leaks.append(f"{call.path}: {secret}")
    return leaks


OUTSIDERS = {
    "guest": (dict(is_restricted=True), GUEST),
    "single-channel guest": (dict(is_ultra_restricted=True), GUEST),
    "other organisation": (dict(team_id="T0PARTNERORG"), OUTSIDER),
    "stranger": (dict(is_stranger=True), OUTSIDER),
}


@pytest.mark.parametrize("who", list(OUTSIDERS))
def test_outsiders_are_refused_on_every_listener_and_nothing_is_read_or_written(slack_app, who):
    flags, line = OUTSIDERS[who]
    seed(slack_app)
    fake = slack_app.fake
    fake.add_user("UOUT1", **flags)
    before = row_counts()

    # Slash command: the same line whether or not the partner exists.
    for text in ("status acme", "status no-such-partner", "list", "requests open", "add Evil type:channel"):
        reply = slack_app.command(text, user="UOUT1")
        assert reply["response_type"] == "ephemeral" and line in reply["text"], (text, reply)
    # Buttons: Share, Next page, Claim, Post again, Approve, Open (App Home).
    for action_id, value in ((Action.SHARE, "status acme"), (Action.PAGE, "list page:2"), (Action.REQUEST_CLAIM, "1"),
                             (Action.REQUEST_REPOST, "1"), (Action.DEAL_APPROVE, "1")):
        response, url = slack_app.action(action_id, value, user="UOUT1")
        assert response.status_code == 200
        answer = slack_app.reply_to(url)
        assert line in answer["text"] and answer.get("response_type") != "in_channel", (action_id, answer)
    slack_app.action(Action.HOME_OPEN_PARTNER, "1", user="UOUT1")
    (update,) = fake.wait_for("views.update")
    assert line in texts(update.args["view"]["blocks"])
    # Global shortcut: the form opens (the trigger lives 3 s), but the teams are never shown.
    slack_app.interactive({"type": "shortcut", "callback_id": Shortcut.ASK, "trigger_id": "9.9.x", "user": {"id": "UOUT1"}})
    updates = fake.wait_for("views.update", 2)
    assert line in texts(updates[1].args["view"]["blocks"])
    slack_app.interactive({"type": "shortcut", "callback_id": Shortcut.LOG, "trigger_id": "9.9.y", "user": {"id": "UOUT1"}})
    updates = fake.wait_for("views.update", 3)
    assert line in texts(updates[2].args["view"]["blocks"])
    # Partner picker suggestions: nothing.
    response = slack_app.interactive({"type": "block_suggestion", "action_id": Action.PARTNER_PICK, "block_id": "partner",
                                      "value": "ac", "user": {"id": "UOUT1"}})
    assert response.json() == {"options": []}
    # Form submissions: refused on the form, nothing created.
    ask_values = {
        "team": {"value": {"selected_option": {"value": "legal"}}},
        "partner": {Action.PARTNER_PICK: {"selected_option": {"value": "1"}}},
        "text": {"value": {"value": "give me the deal desk numbers"}},
        "due": {"value": {"selected_date": None}},
    }
    response = slack_app.submit_view({"callback_id": View.ASK, "type": "modal", "private_metadata": ""}, ask_values, user="UOUT1")
    assert response.json() == {"response_action": "errors", "errors": {"text": line[:150]}}
    note = {"text": {"value": {"value": "sneaky note"}}}
    response = slack_app.submit_view({"callback_id": View.REQUEST_NOTE, "type": "modal", "private_metadata": "1"}, note, user="UOUT1")
    assert response.json()["response_action"] == "errors"
    # App Home: whatever it showed before is replaced by one line.
    slack_app.event({"type": "app_home_opened", "user": "UOUT1", "channel": "D0DM", "tab": "home", "event_ts": "1.0"})
    (publish,) = fake.wait_for("views.publish")
    assert texts(publish.args["view"]["blocks"]) == line

    assert record_leaked(fake) == []
    assert not fake.messages()  # nothing posted anywhere
    assert row_counts() == before


def test_people_outside_partnerbot_users_are_refused_everywhere(settings, fake_slack):
    with serve(settings.model_copy(update={"users": frozenset({"UOWNER1", "UADMIN1"})}), fake_slack) as app:
        seed(app)
        reply = app.command("status acme", user="UOTHER1")
        assert NOT_LISTED in reply["text"]
        response = app.interactive({"type": "block_suggestion", "action_id": Action.PARTNER_PICK, "block_id": "partner",
                                    "value": "ac", "user": {"id": "UOTHER1"}})
        assert response.json() == {"options": []}
        app.event({"type": "app_home_opened", "user": "UOTHER1", "channel": "D0DM", "tab": "home", "event_ts": "1.0"})
        (publish,) = app.fake.wait_for("views.publish")
        assert texts(publish.args["view"]["blocks"]) == NOT_LISTED
        assert record_leaked(app.fake) == []


@pytest.mark.parametrize("fault", ["error", "server_error", "rate_limited"])
def test_when_slack_cannot_say_who_someone_is_the_answer_is_no(slack_app, retry_clock, fault):
    seed(slack_app)
    fake = slack_app.fake
    fake.add_user("UNEW1")  # a full member, but Slack will not say so just now
    {"error": lambda: fake.fail_next("users.info", "fatal_error"),
     "server_error": lambda: fake.server_error_next("users.info", 503),
     "rate_limited": lambda: fake.rate_limit_next("users.info", retry_after=30)}[fault]()
    reply = slack_app.command("status acme", user="UNEW1")  # at once: a rate limit is not waited out
    assert UNKNOWN in reply["text"]
    assert record_leaked(fake) == []
    # Not cached: once Slack answers, the member gets in.
    slack_app.settle()
    reply = slack_app.command("status acme", user="UNEW1")
    assert "Acme Corp" in texts(reply["blocks"])


def test_partner_suggestions_never_include_archived_partners(slack_app):
    slack_app.command('add "Acme Corp" type:channel', user="UOWNER1")
    slack_app.command('add "Acme Retired" type:channel', user="UOWNER1")
    slack_app.command('archive "Acme Retired"', user="UOWNER1")
    response = slack_app.interactive({"type": "block_suggestion", "action_id": Action.PARTNER_PICK, "block_id": "partner",
                                      "value": "acme", "user": {"id": "UOWNER1"}})
    assert [o["text"]["text"] for o in response.json()["options"]] == ["Acme Corp"]


# --- channels shared with another organisation ------------------------------------------------


@pytest.mark.parametrize("answer", ["shared", "pending", "channel_not_found", "server_error"])
def test_share_posts_only_where_slack_says_the_channel_is_internal(slack_app, answer):
    slack_app.command('add "Acme Corp" type:channel', user="UOWNER1")
    fake = slack_app.fake
    if answer == "shared":
        fake.add_channel("C0CONNECT", name="acme-connect", is_ext_shared=True)
    elif answer == "pending":
        fake.add_channel("C0CONNECT", name="acme-connect", is_pending_ext_shared=True)
    elif answer == "channel_not_found":  # a private channel the bot is not in
        fake.add_channel("C0CONNECT", name="acme-connect", is_private=True, is_member=False)
    else:
        fake.server_error_next("conversations.info", 500, times=3)
    response, url = slack_app.action(Action.SHARE, "status acme", user="UOWNER1", channel="C0CONNECT")
    answer = slack_app.reply_to(url)
    assert answer["response_type"] == "ephemeral" and "shared with another organisation" in answer["text"]
    assert "Acme" not in json.dumps(answer)
    assert not [c for c in fake.responses() if c.args.get("response_type") == "in_channel"]


def test_shared_card_text_fallback_is_escaped_like_its_blocks(slack_app):
    # Typed literally, Slack sends it escaped; stored as typed: "Ping <!channel> and <@U0CEO>".
    slack_app.command('add "Ping &lt;!channel&gt; and &lt;@U0CEO&gt;" type:channel', user="UOWNER1")
    response, url = slack_app.action(Action.SHARE, "status ping", user="UOWNER1")
    shared = slack_app.reply_to(url)
    assert shared["response_type"] == "in_channel"
    for text in (shared["text"], texts(shared["blocks"], mrkdwn_only=True)):
        assert "<!channel>" not in text and "<@U0CEO>" not in text
        assert "&lt;!channel&gt;" in text


def test_an_error_is_never_shared_into_the_channel(slack_app):
    response, url = slack_app.action(Action.SHARE, "status no-such-partner", user="UOWNER1")
    answer = slack_app.reply_to(url)
    assert answer["response_type"] == "ephemeral" and "no-such-partner" in answer["text"]


def test_ask_into_a_route_that_became_shared_keeps_the_request_and_says_why(slack_app, monkeypatch):
    slack_app.command('add "Acme Corp" type:channel', user="UOWNER1")
    fake = slack_app.fake
    fake.add_channel("C0LEGAL", name="legal")
    slack_app.command("route legal <#C0LEGAL|legal>", user="UADMIN1")
    # Later the channel becomes Slack Connect (the route was set while it was internal);
    # the "internal" answer cached at route time has run out by the time of the post.
    fake.add_channel("C0LEGAL", name="legal", is_ext_shared=True)
    monkeypatch.setattr("bot.slack.INTERNAL_TTL", 0.0)
    reply = slack_app.command("ask legal acme review the NDA", user="UREQ1")
    body = texts(reply["blocks"])
    assert "shared with another organisation" in body and "Post again" in json.dumps(reply["blocks"])
    assert fake.messages("C0LEGAL") == []
    with unit_of_work() as s:
        request = s.scalars(select(HelpRequest)).one()
        assert request.message_ts is None and request.post_error == "channel_is_shared"
    # An admin routes legal to an internal channel; Post again posts it there, once.
    fake.add_channel("C0LEGAL2", name="legal-internal")
    slack_app.command("route legal <#C0LEGAL2|legal-internal>", user="UADMIN1")
    repost = reply["blocks"][-1]["elements"][0]
    response, url = slack_app.action(repost["action_id"], repost["value"], user="UREQ1")
    assert "Sent legal request *#1*" in texts(slack_app.reply_to(url)["blocks"])
    assert len(fake.messages("C0LEGAL2")) == 1 and fake.messages("C0LEGAL") == []


def test_channel_link_refuses_a_channel_slack_cannot_describe_and_writes_nothing(slack_app):
    # A shared channel becomes the partner's channel (tests/test_partner_channels.py); one
    # Slack says nothing about is not linked at all.
    slack_app.command('add "Acme Corp" type:channel', user="UOWNER1")
    slack_app.fake.add_channel("C0CONNECT", name="acme-connect", is_ext_shared=True)
    slack_app.fake.server_error_next("conversations.info")
    before = row_counts()
    reply = slack_app.command("channel acme <#C0CONNECT|acme-connect>", user="UOWNER1")
    assert "couldn't confirm" in texts(reply["blocks"])
    assert row_counts() == before
    with unit_of_work() as s:
        assert partners.get(session=s, partner_id=1).slack_channel_id is None


# --- forms and crashes ------------------------------------------------------------------------


ASK_VALUES = {
    "team": {"value": {"selected_option": {"value": "legal"}}},
    "partner": {Action.PARTNER_PICK: {"selected_option": {"value": "1"}}},
    "text": {"value": {"value": "Review the reseller addendum"}},
    "due": {"value": {"selected_date": None}},
}


def test_slow_users_info_never_times_out_a_form_and_one_form_makes_one_request(slack_app):
    slack_app.command('add "Acme Corp" type:channel', user="UOWNER1")
    slack_app.command("route legal <#C0LEGAL|legal>", user="UADMIN1")
    fake = slack_app.fake
    fake.add_user("UREQ9")
    fake.delay_next("users.info", ACK_BUDGET + 0.5)
    view = {"callback_id": View.ASK, "type": "modal", "private_metadata": ""}
    response = slack_app.submit_view(view, ASK_VALUES, user="UREQ9")
    # Answered on the form (within Slack's 3 s), refused for now, nothing created.
    assert response.json() == {"response_action": "errors", "errors": {"text": UNKNOWN[:150]}}
    with unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(HelpRequest)) == 0
    fake.wait_answered("users.info")  # the lookup finishes in the background and is remembered
    for _ in range(3):  # Send clicked again, and Slack redelivering the same submission
        response = slack_app.submit_view(view, ASK_VALUES, user="UREQ9")
        assert response.status_code == 200 and response.text in ("", "null") or response.json() == {}
    slack_app.settle()
    with unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(HelpRequest)) == 1
    assert len(fake.messages("C0LEGAL")) == 1


def test_a_request_orphaned_by_a_crash_is_posted_once_by_the_jobs(settings, fake_slack):
    fake_slack.reset()
    job_settings = make_settings(DATABASE_URL=settings.database_url, SLACK_API_URL=fake_slack.api_url,
                                 PARTNERBOT_ROUTES='{"legal": "C0LEGAL"}')
    slack = JobSlack(web_client(job_settings), job_settings.zone)
    created = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    # What a process that died right after saving the request leaves behind.
    with unit_of_work() as s:
        partner = partners.create(session=s, name="Acme Corp", type="channel", tier=None, owner_id="UOWNER1",
                                  stage="active", created_by="UOWNER1", now=created)
        request = requests.create(session=s, partner_id=partner.id, team="legal", text="Review the NDA",
                                  requester_id="UREQ1", origin_channel_id=None, due_on=None, now=created)
        ledger.claim(session=s, **requests.post_key(request.id), target="C0LEGAL",
                     payload=ledger.message_payload("Legal request #1", []), now=created)
    # Minutes later nothing has happened yet (the claim may still be in flight).
    run_job("request-escalations", settings=job_settings, slack=slack, now=created + timedelta(minutes=5))
    assert fake_slack.messages("C0LEGAL") == []
    # After the crash window the escalation job posts it, with its buttons, once.
    later = created + timedelta(minutes=65)
    run_job("request-escalations", settings=job_settings, slack=slack, now=later)
    run_job("retry", settings=job_settings, slack=slack, now=later + timedelta(minutes=15))
    run_job("request-escalations", settings=job_settings, slack=slack, now=later + timedelta(hours=1))
    (post,) = fake_slack.messages("C0LEGAL")
    assert "Review the NDA" in texts(post["blocks"])
    with unit_of_work() as s:
        row = s.scalars(select(HelpRequest)).one()
        assert row.message_ts is not None and row.channel_id == "C0LEGAL"
        assert s.scalar(select(NotificationLedger.status).where(NotificationLedger.job == requests.POST_JOB)) == "sent"


def test_a_member_who_becomes_a_guest_or_leaves_is_refused_within_minutes(slack_app, monkeypatch):
    seed(slack_app)
    fake = slack_app.fake
    fake.add_user("UMEM2")
    assert "Acme Corp" in texts(slack_app.command("status acme", user="UMEM2")["blocks"])
    monkeypatch.setattr("bot.access.ACCESS_TTL", 0.0)  # the few minutes a membership is remembered have passed
    fake.add_user("UMEM2", is_restricted=True)
    assert GUEST in slack_app.command("status acme", user="UMEM2")["text"]
    fake.add_user("UMEM2", deleted=True)
    assert OUTSIDER in slack_app.command("status acme", user="UMEM2")["text"]


def test_share_in_a_conversation_slack_does_not_vouch_for_is_refused(slack_app):
    slack_app.command('add "Acme Corp" type:channel', user="UOWNER1")
    # A direct message between two people (the bot cannot see it, maybe with someone outside).
    response, url = slack_app.action(Action.SHARE, "status acme", user="UOWNER1", channel="D0SOMEDM")
    answer = slack_app.reply_to(url)
    assert answer["response_type"] == "ephemeral" and "shared with another organisation" in answer["text"]
    assert not [c for c in slack_app.fake.responses() if c.args.get("response_type") == "in_channel"]


def test_nothing_is_sent_by_dm_to_an_owner_from_another_organisation(settings, fake_slack):
    job_settings = make_settings(DATABASE_URL=settings.database_url, SLACK_API_URL=fake_slack.api_url)
    with serve(job_settings, fake_slack) as app:
        app.fake.add_user("UEXT1", team_id="T0PARTNERORG", tz="UTC")
        app.command('add "Acme Corp" type:channel', user="UOWNER1")
        app.command("owner acme <@UEXT1|partner-person>", user="UOWNER1")
        app.command("qbr acme in 3 days", user="UOWNER1")
        slack = JobSlack(web_client(job_settings), job_settings.zone)
        result = run_job("qbr-reminders", settings=job_settings, slack=slack,
                         now=datetime.now(timezone.utc).replace(hour=12, minute=0) + timedelta(days=1))
        assert result.failed >= 1
        assert app.fake.messages("UEXT1") == [] and not [c for c in app.fake.calls_to("chat.postMessage")
                                                         if c.args.get("channel") == "UEXT1"]
