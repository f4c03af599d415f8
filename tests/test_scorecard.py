"""The partner-facing scorecard (`/partner scorecard <partner>`) and the owner's QBR brief
(`/partner qbr <partner> brief`, its **Share scorecard with partner**), end to end through
the Slack door: what the partner channel receives, and that no internal fact is in it."""

from __future__ import annotations

import json
from decimal import Decimal
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from storage.db import unit_of_work
from storage.health import HEALTH_WRITE
from storage.health_rule import quarter_progress
from storage.models import DealRegistration, DealStatus, HelpRequest, NotificationLedger, Partner, RequestStatus
from storage.periods import quarter_of
from storage.brief import previous_quarter
from tests.conftest import make_settings, serve, texts
from views.ids import Action

SHARED = "C0SHARED"
ZONE = timezone.utc
# Internal facts, each distinctive: none may reach the partner channel.
CANARIES = {
    "health": "HEALTHCANARY quiet for weeks",
    "interaction": "INTERACTIONCANARY margins are thin",
    "qbr notes": "QBRNOTESCANARY renegotiate",
    "internal request": "INTERNALREQCANARY check their credit",
    "partner request text": "ASKEDCANARY please review",
    "resolution": "RESOLUTIONCANARY signed off",
    "team": "counsel-team",
    "claimer": "UCLAIMER9",
    "owner": "UOWNER1",
    "other partner": "Hooli",
    "conflict": "conflict",
    "first registered": "first registered",
}


def partner_id(name: str) -> int:
    with unit_of_work() as s:
        return s.scalar(select(Partner.id).where(Partner.name == name))


def seed(slack_app, *, link: bool = True) -> int:
    """Acme, owned by UOWNER1: this quarter's revenue and target, last quarter's too, a
    deal in conflict with Hooli's, a rejected one with a reason, one registered, a QBR
    held (notes) and one ahead, requests the partner asked and one asked internally,
    and a logged call. Returns Acme's id."""
    now = datetime.now(ZONE)
    _, months, _ = quarter_progress(now, ZONE, 1)
    last_q, last_months = previous_quarter(months, fiscal_start=1)
    command = slack_app.command
    command("add Acme type:channel", user="UOWNER1")
    command("add Hooli type:channel", user="UOWNER2")
    command("kpi acme revenue 12000", user="UOWNER1")
    command("target acme revenue 30000", user="UOWNER1")
    command(f"kpi acme revenue 20000 period:{last_months[0]}", user="UOWNER1")
    command(f"target acme revenue 25000 period:{last_q}", user="UOWNER1")
    command("deal hooli Globex 10000", user="UOWNER2")
    command("deal acme Globex 25000", user="UOWNER1")
    command("deal acme Initech 5000", user="UOWNER1")
    command("deal acme Umbrella 7000", user="UOWNER1")
    command(f"log acme call {CANARIES['interaction']}", user="UOWNER1")
    command(f"qbr acme done {CANARIES['qbr notes']}", user="UOWNER1")
    command(f"qbr acme {(now + timedelta(days=10)).date().isoformat()}", user="UOWNER1")
    acme = partner_id("Acme")
    with unit_of_work() as s:
        s.execute(DealRegistration.__table__.update().where(DealRegistration.customer == "Initech").values(
            status=DealStatus.REJECTED, decision_reason="no budget confirmed yet", decided_by="UADMIN1", decided_at=now,
            submitted_team_id="T0PARTNERORG"))  # the partner's own submission: its reason is the partner's to read
        asked = dict(partner_id=acme, team=CANARIES["team"], requester_id="UEXT1", partner_channel_id=SHARED,
                     requester_team_id="T0PARTNERORG")
        s.add_all([
            HelpRequest(**asked, text=CANARIES["partner request text"], category="contracts", created_at=now - timedelta(days=2)),
            HelpRequest(**asked, text="second ask", category="billing", status=RequestStatus.CLAIMED,
                        claimed_by=CANARIES["claimer"], claimed_at=now - timedelta(hours=20), created_at=now - timedelta(days=1)),
            HelpRequest(**asked, text="third ask", category="technical", status=RequestStatus.RESOLVED,
                        claimed_by=CANARIES["claimer"], claimed_at=now - timedelta(hours=2), resolved_by=CANARIES["claimer"],
                        resolved_at=now - timedelta(hours=2), resolution=CANARIES["resolution"], created_at=now - timedelta(hours=6)),
            HelpRequest(**asked, text="long done", category="other", status=RequestStatus.RESOLVED,
                        resolved_at=now - timedelta(days=40), created_at=now - timedelta(days=100)),
            HelpRequest(partner_id=acme, team=CANARIES["team"], requester_id="UOWNER1", text=CANARIES["internal request"],
                        created_at=now - timedelta(hours=3)),
        ])
        # Before this quarter: one still waiting for a decision, one long approved.
        old = dict(partner_id=acme, amount=Decimal(9000), registered_by="UEXT1", registered_at=now - timedelta(days=100))
        s.add_all([DealRegistration(**old, customer="Oldco", customer_key="oldco", status=DealStatus.REVIEW),
                   DealRegistration(**old, customer="Ancient", customer_key="ancient", status=DealStatus.APPROVED)])
        s.flush()
        partner = s.get(Partner, acme)
        partner.partner_active_at = now - timedelta(days=1)
        if link:
            partner.slack_channel_id = SHARED
    # The stored health, set last as the health upkeep writes it (not itself a signal).
    with unit_of_work() as s:
        s.execute(Partner.__table__.update().where(Partner.id == acme).values(
            health_score=55, health_reasons=json.dumps([CANARIES["health"]])).execution_options(**{HEALTH_WRITE: True}))
    slack_app.fake.add_channel(SHARED, name="acme-partners", is_ext_shared=True)
    slack_app.fake.reset_calls()
    return acme


def posted_to_shared(fake) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == SHARED]


def leaked(args: dict) -> list[str]:
    blob = json.dumps(args)
    return [name for name, canary in CANARIES.items() if canary.casefold() in blob.casefold()]


def test_scorecard_posts_the_partners_own_facts_and_nothing_internal(slack_app):
    seed(slack_app)
    reply = slack_app.command("scorecard acme", user="UOWNER1")
    assert f"Posted *Acme*'s" in texts(reply["blocks"]) and f"<#{SHARED}>" in texts(reply["blocks"]), reply
    (post,) = posted_to_shared(slack_app.fake)
    body = texts(post["blocks"])
    now = datetime.now(ZONE)
    quarter = quarter_of(f"{now:%Y-%m}")
    assert post["blocks"][0]["text"]["text"] == f"Acme · scorecard · {quarter}"
    # KPIs against the joint plan, with pace.
    _, _, elapsed = quarter_progress(now, ZONE, 1)
    verdict = "on pace" if 0.4 >= elapsed else "behind"
    assert "*revenue* $12K of $30K — 40%, pace" in body and f": {verdict}" in body, body
    # Its own deals: a conflict reads like any deal under review; a rejection says why.
    assert "*Globex* · $25K · under review" in body
    assert "*Initech* · $5K · rejected: no budget confirmed yet" in body
    assert "*Umbrella* · $7K · registered" in body
    assert "*Oldco* · $9K · under review" in body and "Ancient" not in body  # undecided ones stay until decided
    # The next QBR's date, and the requests the partner asked, by category and status.
    upcoming = (now + timedelta(days=10)).date()
    assert f"{upcoming:%a %b} {upcoming.day} {upcoming.year}" in body
    assert "Contracts &amp; legal · received" in body
    assert "Billing &amp; finance · in progress" in body
    assert "Technical &amp; product · resolved" in body
    assert "Anything else" not in body  # resolved over 30 days ago
    assert leaked(post) == [], leaked(post)


def test_a_whitelist_without_deals_leaves_them_out(database_url, fake_slack):
    settings = make_settings(DATABASE_URL=database_url, PARTNERBOT_SCORECARD_FIELDS="kpis,qbr,requests")
    with serve(settings, fake_slack) as slack_app:
        seed(slack_app)
        slack_app.command("scorecard acme", user="UOWNER1")
        (post,) = posted_to_shared(slack_app.fake)
    body = texts(post["blocks"])
    assert "revenue" in body and "Next business review" in body and "Your requests" in body
    assert "Deal registrations" not in body and "Globex" not in body and "Initech" not in body


def test_an_unlinked_partner_is_told_how_to_link_and_nothing_is_posted(slack_app):
    seed(slack_app, link=False)
    reply = slack_app.command("scorecard acme", user="UOWNER1")
    assert "*Acme* has no linked channel" in texts(reply["blocks"])
    assert "`/partner channel Acme #channel`" in texts(reply["blocks"])
    assert slack_app.fake.calls_to("chat.postMessage") == []


def test_only_the_owner_or_an_admin_posts_a_scorecard(slack_app):
    seed(slack_app)
    reply = slack_app.command("scorecard acme", user="UOTHER3")
    assert "Only Acme's owner <@UOWNER1> or an admin can post its scorecard" in texts(reply["blocks"])
    assert slack_app.fake.calls_to("chat.postMessage") == []
    with unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(NotificationLedger).where(NotificationLedger.job == "scorecard")) == 0
    slack_app.command("scorecard acme", user="UADMIN1")
    assert len(posted_to_shared(slack_app.fake)) == 1


def test_the_qbr_brief_is_the_owners_internal_pack(slack_app):
    acme = seed(slack_app)
    reply = slack_app.command("qbr acme brief", user="UOWNER1")
    assert reply["response_type"] == "ephemeral"
    body = texts(reply["blocks"])
    now = datetime.now(ZONE)
    _, months, _ = quarter_progress(now, ZONE, 1)
    last_q, _ = previous_quarter(months, fiscal_start=1)
    assert "Acme · QBR brief ·" in body and "Internal, for you" in body
    assert CANARIES["health"] in body and "55/100" in body
    assert "*revenue* $12K of $30K — 40%, pace" in body
    assert f"{last_q}: $20K of $25K (80%), so far 60% of it" in body
    assert "1 in conflict ($25K)" in body and "1 rejected ($5K)" in body and "1 registered ($7K)" in body
    assert "Requests: 4 asked (3 by the partner in its channel): 2 open, 1 claimed, 1 resolved" in body
    assert "median 4 h to claim, median 4 h to resolve" in body
    assert f"Interactions: 1 call; the partner last wrote in its channel {(now - timedelta(days=1)).date().isoformat()}" in body
    assert "Onboarding: 0/4 done; next: Agreement signed" in body
    assert "Deal conflict: *Globex* ($25K), first registered by *Hooli*" in body
    assert "Proposed agenda" in body and "Plan next quarter" in body
    buttons = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(Action.BRIEF_SHARE_SCORECARD, str(acme))]
    assert posted_to_shared(slack_app.fake) == []  # the brief itself never goes to the partner


def test_share_scorecard_with_partner_posts_the_scorecard_not_the_brief(slack_app):
    acme = seed(slack_app)
    _, response_url = slack_app.action(Action.BRIEF_SHARE_SCORECARD, str(acme), user="UOWNER1")
    answer = slack_app.reply_to(response_url)
    assert f"scorecard in <#{SHARED}>" in texts(answer["blocks"]) and answer["replace_original"] is False
    (post,) = posted_to_shared(slack_app.fake)
    body = texts(post["blocks"])
    assert "scorecard" in post["blocks"][0]["text"]["text"] and "QBR brief" not in body
    assert leaked(post) == []


def test_share_button_by_someone_else_is_refused(slack_app):
    acme = seed(slack_app)
    _, response_url = slack_app.action(Action.BRIEF_SHARE_SCORECARD, str(acme), user="UOTHER3")
    assert "Only Acme's owner" in texts(slack_app.reply_to(response_url)["blocks"])
    assert posted_to_shared(slack_app.fake) == []


def test_the_brief_of_an_unlinked_partner_says_how_to_link_instead_of_a_button(slack_app):
    seed(slack_app, link=False)
    reply = slack_app.command("qbr acme brief", user="UOWNER1")
    assert not [b for b in reply["blocks"] if b["type"] == "actions"]
    assert "`/partner channel Acme #channel`" in texts(reply["blocks"])


@pytest.mark.parametrize("line", ["qbr acme brief now", "scorecard acme extra"])
def test_extra_words_show_the_usage(slack_app, line):
    seed(slack_app)
    reply = slack_app.command(line, user="UOWNER1")
    assert texts(reply["blocks"]).startswith(":warning:") and "Usage: `/partner" in texts(reply["blocks"])


def test_our_scorecard_on_the_desk_shows_the_partner_the_same_redacted_scorecard(slack_app):
    """A partner's own person clicks **Our scorecard**: only they see it, and it holds no internal fact."""
    seed(slack_app)
    slack_app.fake.add_user("UEXT1", team_id="T0PARTNERORG", name="pat")
    _, response_url = slack_app.action(Action.DESK_SCORECARD, "", user="UEXT1", channel=SHARED)
    shown = slack_app.reply_to(response_url)
    assert shown["response_type"] == "ephemeral"
    body = texts(shown["blocks"])
    assert "Acme · scorecard ·" in body and "*Globex* · $25K · under review" in body
    assert leaked(shown) == [], leaked(shown)
    assert posted_to_shared(slack_app.fake) == []
