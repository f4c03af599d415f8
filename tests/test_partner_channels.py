"""Partner channels end to end, through the same door Slack uses: a partner manager links
a Slack Connect channel, the partner registers a deal and asks for help from its desk,
the owner decides and resolves, and the partner sees each outcome in its thread."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.db import unit_of_work
from storage.models import Change, DealRegistration, DeskForm, HelpRequest
from tests.conftest import texts
from views.ids import Action, Block, View

SHARED = "C0ACMEX"
EXTERNAL = "UEXT1"
OTHER_ORG = "T0OTHER"


@pytest.fixture
def linked(slack_app):
    """Acme, owned by UOWNER1, linked to a Slack Connect channel with an external member."""
    fake = slack_app.fake
    fake.add_channel(SHARED, name="acme-shared", is_ext_shared=True)
    fake.add_user(EXTERNAL, team_id=OTHER_ORG, name="pat")
    slack_app.command("add Acme type:channel", user="UOWNER1")
    slack_app.command("route legal <#C0LEGAL|legal>", user="UADMIN1")
    reply = slack_app.command(f"channel Acme <#{SHARED}|acme-shared>", user="UOWNER1")
    slack_app.settle()
    return slack_app, reply


def desk_click(slack_app, action: str, *, user: str = EXTERNAL, channel: str = SHARED) -> tuple[str, str | None]:
    """Click a desk button: the form Slack opened, and its id when the desk let the person in
    (the app remembers which channel and partner that form is for)."""
    before = len(slack_app.fake.calls_to("views.open"))
    slack_app.action(action, "", user=user, channel=channel)
    slack_app.settle()
    opened = slack_app.fake.wait_answered("views.open", before + 1)[-1]
    with unit_of_work(read_only=True) as session:
        form = session.scalars(select(DeskForm).where(DeskForm.user_id == user).order_by(DeskForm.created_at.desc())).first()
    return opened.args["view"]["callback_id"], form.view_id if form else None


def submit_deal(slack_app, view_id: str, *, customer="Globex", amount="25k", close="2099-03-31", notes="", user=EXTERNAL):
    values = {
        Block.CUSTOMER: {Action.INPUT: {"type": "plain_text_input", "value": customer}},
        Block.AMOUNT: {Action.INPUT: {"type": "plain_text_input", "value": amount}},
        Block.CLOSE: {Action.INPUT: {"type": "datepicker", "selected_date": close}},
        Block.NOTES: {Action.INPUT: {"type": "plain_text_input", "value": notes}},
    }
    response = slack_app.submit_view({"type": "modal", "callback_id": View.DESK_DEAL}, values, user=user, view_id=view_id,
                                     user_team=OTHER_ORG)
    slack_app.settle()
    return response


def submit_help(slack_app, view_id: str, *, category="contracts", text="Can we get the MSA redlines back?", user=EXTERNAL):
    values = {
        Block.CATEGORY: {Action.INPUT: {"type": "static_select", "selected_option": {"value": category}}},
        Block.TEXT: {Action.INPUT: {"type": "plain_text_input", "value": text}},
    }
    response = slack_app.submit_view({"type": "modal", "callback_id": View.DESK_HELP}, values, user=user, view_id=view_id,
                                     user_team=OTHER_ORG)
    slack_app.settle()
    return response


def posted_in(fake, channel: str) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def test_linking_a_shared_channel_posts_and_pins_the_partner_desk(linked):
    slack_app, reply = linked
    said = texts(reply["blocks"])
    assert "partner-safe mode" in said and "partner desk" in said
    desk = posted_in(slack_app.fake, SHARED)
    assert len(desk) == 1
    labels = [e["text"]["text"] for b in desk[0]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Register a deal", "Ask for help", "Our scorecard"]
    assert slack_app.fake.calls_to("pins.add")[0].args["channel"] == SHARED


def test_a_partner_registers_a_deal_and_sees_the_owners_decision_in_its_thread(linked):
    slack_app, _ = linked
    fake = slack_app.fake
    callback, view_id = desk_click(slack_app, Action.DESK_DEAL)
    assert callback == View.DESK_DEAL
    response = submit_deal(slack_app, view_id, notes="Champion is the CFO")
    assert response.content in (b"", b"{}") or "errors" not in response.text

    receipt = posted_in(fake, SHARED)[-1]
    assert "under review" in texts(receipt["blocks"]) and "Globex" in texts(receipt["blocks"])
    review = posted_in(fake, "UOWNER1")[-1]
    said = texts(review["blocks"])
    assert "Globex" in said and "Champion is the CFO" in said and "Partner's thread" in said
    buttons = {e["action_id"]: e["value"] for b in review["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert set(buttons) == {Action.DEAL_APPROVE, Action.DEAL_REJECT_REASON}

    with unit_of_work(read_only=True) as session:
        deal = session.scalars(select(DealRegistration)).one()
        assert (deal.status, deal.submitted_team_id, deal.registered_by) == ("review", OTHER_ORG, EXTERNAL)
        change = session.scalars(select(Change).where(Change.kind == "deal.register")).one()
        assert (change.user_id, change.team_id) == (EXTERNAL, OTHER_ORG)

    receipt_ts = [m for m in fake.messages(SHARED) if "under review" in m["text"]][0]["ts"]
    slack_app.action(Action.DEAL_APPROVE, buttons[Action.DEAL_APPROVE], user="UOWNER1", channel="DOWNER1")
    slack_app.settle()
    outcome = posted_in(fake, SHARED)[-1]
    assert outcome["thread_ts"] == receipt_ts
    assert "Approved" in texts(outcome["blocks"])


def test_a_rejection_reason_reaches_the_partner_but_never_the_conflicting_partner(linked):
    slack_app, _ = linked
    fake = slack_app.fake
    slack_app.command("add Initech type:channel", user="UOWNER1")
    slack_app.command('deal Initech "Globex" 10k', user="UOWNER1")
    _, view_id = desk_click(slack_app, Action.DESK_DEAL)
    submit_deal(slack_app, view_id)
    # A conflict is the admins' to decide (SPEC §9): the review goes to them, not to the owner.
    review = posted_in(fake, "UADMIN1")[-1]
    assert "Initech" in texts(review["blocks"])  # the admin sees the conflict
    assert not [m for m in posted_in(fake, "UOWNER1") if "Globex" in m["text"]]
    assert all("Initech" not in texts(m["blocks"]) + m["text"] for m in posted_in(fake, SHARED))

    with unit_of_work(read_only=True) as session:
        deal_id = session.scalars(select(DealRegistration.id).where(DealRegistration.submitted_team_id.is_not(None))).one()
    reason = {Block.TEXT: {Action.INPUT: {"type": "plain_text_input", "value": "Already in our pipeline"}}}
    modal = {"type": "modal", "callback_id": View.DEAL_REJECT, "private_metadata": f"{deal_id}|"}
    refused = slack_app.submit_view(modal, reason, user="UOWNER1").json()
    assert "Only admins" in refused["errors"][Block.TEXT]
    slack_app.submit_view(modal, reason, user="UADMIN1")
    slack_app.settle()
    outcome = texts(posted_in(fake, SHARED)[-1]["blocks"])
    assert "Rejected" in outcome and "Already in our pipeline" in outcome and "Initech" not in outcome


def test_a_partner_asks_for_help_and_sees_claimed_and_resolved_in_its_thread(linked):
    slack_app, _ = linked
    fake = slack_app.fake
    _, view_id = desk_click(slack_app, Action.DESK_HELP)
    submit_help(slack_app, view_id)
    receipt = posted_in(fake, SHARED)[-1]
    assert "Request received" in texts(receipt["blocks"]) and "Contracts" in texts(receipt["blocks"])
    team = posted_in(fake, "C0LEGAL")[-1]
    assert "MSA redlines" in texts(team["blocks"]) and "Partner's thread" in texts(team["blocks"])
    with unit_of_work(read_only=True) as session:
        request = session.scalars(select(HelpRequest)).one()
        assert (request.team, request.category, request.requester_team_id) == ("legal", "contracts", OTHER_ORG)

    slack_app.action(Action.REQUEST_CLAIM, str(request.id), user="ULEGAL1", channel="C0LEGAL")
    slack_app.settle()
    assert "In progress" in texts(posted_in(fake, SHARED)[-1]["blocks"])
    slack_app.submit_view({"type": "modal", "callback_id": View.REQUEST_NOTE, "private_metadata": str(request.id)},
                          {Block.TEXT: {Action.INPUT: {"type": "plain_text_input", "value": "internal: their counsel is slow"}}},
                          user="ULEGAL1")
    slack_app.submit_view({"type": "modal", "callback_id": View.REQUEST_RESOLVE, "private_metadata": str(request.id)},
                          {Block.TEXT: {Action.INPUT: {"type": "plain_text_input", "value": "Redlines sent by email"}}},
                          user="ULEGAL1")
    slack_app.settle()
    shared = posted_in(fake, SHARED)
    resolved = texts(shared[-1]["blocks"])
    assert "Resolved" in resolved and "Redlines sent by email" not in resolved  # off by default
    assert all("counsel is slow" not in texts(m["blocks"]) + m["text"] for m in shared)
    assert {m["thread_ts"] for m in shared[-2:]} == {[m for m in fake.messages(SHARED) if "request received" in m["text"]][0]["ts"]}


def test_the_resolver_may_send_the_resolution_to_the_partner(linked):
    slack_app, _ = linked
    _, view_id = desk_click(slack_app, Action.DESK_HELP)
    submit_help(slack_app, view_id, category="billing", text="Invoice 42 is wrong")
    with unit_of_work(read_only=True) as session:
        request = session.scalars(select(HelpRequest)).one()
    assert request.team == "finance"  # no finance channel is routed here: the owner hears it by DM
    assert "Invoice 42" in texts(posted_in(slack_app.fake, "UOWNER1")[-1]["blocks"])
    slack_app.submit_view(
        {"type": "modal", "callback_id": View.REQUEST_RESOLVE, "private_metadata": str(request.id)},
        {Block.TEXT: {Action.INPUT: {"type": "plain_text_input", "value": "Credit note issued"}},
         Block.TO_PARTNER: {Action.INPUT: {"type": "checkboxes", "selected_options": [{"value": "send"}]}}},
        user="UOWNER1")
    slack_app.settle()
    assert "Credit note issued" in texts(posted_in(slack_app.fake, SHARED)[-1]["blocks"])


def test_typed_by_the_partner_only_help_and_scorecard(linked):
    slack_app, _ = linked
    said = slack_app.command("status Acme", user=EXTERNAL, channel=SHARED)
    assert "Acme" not in said["text"] and "scorecard" in said["text"]
    nowhere = slack_app.command("status Acme", user=EXTERNAL, channel="C0GENERAL")
    assert "only available to members" in nowhere["text"]
    help_ = slack_app.command("help", user=EXTERNAL, channel=SHARED)
    assert "register a deal" in help_["text"]
    card = slack_app.command("scorecard Initech", user=EXTERNAL, channel=SHARED)
    assert "Acme" in texts(card["blocks"]) and "Initech" not in texts(card["blocks"])


def test_our_people_in_the_partner_channel_mean_the_linked_partner_and_see_replies_alone(linked):
    slack_app, _ = linked
    logged = slack_app.command("log call Walked through the Q1 plan", user="UOWNER1", channel=SHARED)
    assert "Acme" in texts(logged["blocks"]) and logged.get("response_type", "ephemeral") == "ephemeral"
    card = slack_app.command("status", user="UOWNER1", channel=SHARED)
    assert "Walked through the Q1 plan" in texts(card["blocks"])
    named = slack_app.command("qbr Acme in 2 weeks", user="UOWNER1", channel=SHARED)
    assert "Acme" in texts(named["blocks"])
    response, url = slack_app.action(Action.SHARE, "status acme", user="UOWNER1", channel=SHARED)
    shared = slack_app.reply_to(url)
    assert shared["response_type"] == "ephemeral" and "shared with another organisation" in shared["text"]
    assert len(posted_in(slack_app.fake, SHARED)) == 1  # the desk alone: nothing of ours was posted there


@pytest.mark.parametrize("amount, customer, close, block, said", [
    ("lots", "Globex", "2099-01-01", Block.AMOUNT, "is not a deal amount"),
    ("45%", "Globex", "2099-01-01", Block.AMOUNT, "percentage"),
    ("25k", "  ", "2099-01-01", Block.CUSTOMER, "customer"),
    ("25k", "Globex", "2001-01-01", Block.CLOSE, "in the past"),
])
def test_a_mistake_on_the_deal_form_is_shown_under_its_input_and_nothing_is_written(linked, amount, customer, close, block, said):
    slack_app, _ = linked
    _, view_id = desk_click(slack_app, Action.DESK_DEAL)
    posts = len(posted_in(slack_app.fake, SHARED))
    response = submit_deal(slack_app, view_id, customer=customer, amount=amount, close=close)
    errors = response.json()["errors"]
    assert list(errors) == [block] and said in errors[block]
    with unit_of_work(read_only=True) as session:
        assert session.scalars(select(DealRegistration)).all() == []
    assert len(posted_in(slack_app.fake, SHARED)) == posts


def test_history_names_the_partners_person_and_organisation(linked):
    slack_app, _ = linked
    _, view_id = desk_click(slack_app, Action.DESK_DEAL)
    submit_deal(slack_app, view_id)
    said = texts(slack_app.command("history Acme", user="UOWNER1")["blocks"])
    assert f"<@{EXTERNAL}> (organisation `{OTHER_ORG}`) Acme submitted deal #1 from its channel: Globex" in said


def test_a_channel_shared_with_several_organisations_is_nobodys_desk(slack_app):
    fake = slack_app.fake
    fake.add_user(EXTERNAL, team_id=OTHER_ORG)
    fake.add_user("URIVAL1", team_id="T0RIVAL")
    fake.add_channel("C0ONEORG", name="acme-shared", is_ext_shared=True, connected_team_ids=["T0TEAM", OTHER_ORG])
    fake.add_channel("C0TWOORGS", name="acme-and-rival", is_ext_shared=True,
                     connected_team_ids=["T0TEAM", OTHER_ORG, "T0RIVAL"])
    slack_app.command("add Acme type:channel", user="UOWNER1")
    slack_app.command("add Initech type:channel", user="UOWNER1")
    slack_app.command("channel Acme <#C0ONEORG|acme-shared>", user="UOWNER1")
    slack_app.command("channel Initech <#C0TWOORGS|acme-and-rival>", user="UOWNER1")
    ours = slack_app.command("scorecard", user=EXTERNAL, channel="C0ONEORG")
    assert "Acme · scorecard" in texts(ours["blocks"])
    # Someone of a third organisation in Acme's channel, and anyone in a channel two organisations share: nothing.
    assert "only available to members" in slack_app.command("scorecard", user="URIVAL1", channel="C0ONEORG")["text"]
    assert "only available to members" in slack_app.command("scorecard", user=EXTERNAL, channel="C0TWOORGS")["text"]


def test_a_desk_form_left_open_over_a_day_is_not_accepted(linked):
    from datetime import timedelta

    slack_app, _ = linked
    _, view_id = desk_click(slack_app, Action.DESK_DEAL)
    with unit_of_work() as session:
        form = session.get(DeskForm, view_id)
        form.created_at = form.created_at - timedelta(hours=25)
    errors = submit_deal(slack_app, view_id).json()["errors"]
    assert "closed" in errors[Block.CUSTOMER]
    with unit_of_work(read_only=True) as session:
        assert session.scalars(select(DealRegistration)).all() == []


def test_a_reason_given_for_one_of_our_own_conflicts_is_never_kept_or_shown(linked):
    slack_app, _ = linked
    slack_app.command("add Initech type:channel", user="UOWNER1")
    slack_app.command('deal Initech "Globex" 10k', user="UOWNER1")
    slack_app.command('deal Acme "Globex" 12k', user="UOWNER1")  # ours, a conflict: decided without a reason
    with unit_of_work(read_only=True) as session:
        deal_id = session.scalars(select(DealRegistration.id).where(DealRegistration.amount == 12000)).one()
    slack_app.submit_view({"type": "modal", "callback_id": View.DEAL_REJECT, "private_metadata": f"{deal_id}|"},
                          {Block.TEXT: {Action.INPUT: {"type": "plain_text_input", "value": "Initech has it"}}},
                          user="UADMIN1")
    slack_app.settle()
    with unit_of_work(read_only=True) as session:
        deal = session.get(DealRegistration, deal_id)
        assert (deal.status, deal.decision_reason) == ("rejected", None)
    card = slack_app.command("scorecard", user=EXTERNAL, channel=SHARED)
    assert "Globex" in texts(card["blocks"]) and "Initech" not in texts(card["blocks"])


def test_an_outcome_decided_before_its_receipt_is_out_waits_for_it_and_lands_in_its_thread(linked, settings):
    """The receipt in the partner channel failed for now (Slack 500): the owner approves
    meanwhile; the retry job sends the receipt, then the outcome in its thread."""
    from datetime import datetime, timedelta, timezone

    from bot.app import web_client
    from bot.slack import JobSlack
    from jobs.runner import run_job
    from tests.conftest import make_settings

    slack_app, _ = linked
    fake = slack_app.fake
    _, view_id = desk_click(slack_app, Action.DESK_DEAL)
    fake.server_error_next("chat.postMessage")  # the receipt, sent first
    submit_deal(slack_app, view_id)
    assert not [m for m in fake.messages(SHARED) if "under review" in m["text"]]
    with unit_of_work(read_only=True) as session:
        deal_id = session.scalars(select(DealRegistration.id)).one()
    slack_app.action(Action.DEAL_APPROVE, str(deal_id), user="UOWNER1", channel="DUOWNER1")
    slack_app.settle()
    assert not [m for m in fake.messages(SHARED) if "Approved" in texts(m["blocks"])]  # not before its receipt

    job_settings = make_settings(DATABASE_URL=settings.database_url, SLACK_API_URL=fake.api_url)
    slack = JobSlack(web_client(job_settings), job_settings.zone)
    later = datetime.now(timezone.utc) + timedelta(minutes=1)
    run_job("retry", settings=job_settings, slack=slack, now=later)
    run_job("retry", settings=job_settings, slack=slack, now=later + timedelta(minutes=15))
    receipt = [m for m in fake.messages(SHARED) if "under review" in m["text"]]
    outcome = [m for m in fake.messages(SHARED) if "Approved" in texts(m["blocks"])]
    assert len(receipt) == 1 and len(outcome) == 1 and outcome[0]["thread_ts"] == receipt[0]["ts"]


def test_nothing_partner_facing_goes_to_a_channel_two_partners_are_linked_to(linked):
    """Old data (links made before a channel was one partner's): a channel two live
    partners point at is nobody's, and gets neither desk nor scorecard."""
    slack_app, _ = linked
    slack_app.command("add Initech type:channel", user="UOWNER1")
    with unit_of_work() as session:
        from storage.models import Partner

        session.scalars(select(Partner).where(Partner.name == "Initech")).one().slack_channel_id = SHARED
    before = len(posted_in(slack_app.fake, SHARED))
    said = slack_app.command("scorecard Initech", user="UOWNER1")
    slack_app.settle()
    assert len([m for m in slack_app.fake.messages(SHARED)]) == before and "scorecard" in said["text"].lower()


def test_a_channel_shared_with_several_organisations_is_not_linked(slack_app):
    fake = slack_app.fake
    fake.add_channel("C0MANY", name="many", is_ext_shared=True, connected_team_ids=["T0TEAM", OTHER_ORG, "T0RIVAL"])
    slack_app.command("add Acme type:channel", user="UOWNER1")
    said = slack_app.command("channel Acme <#C0MANY|many>", user="UOWNER1")
    assert "several other organisations" in texts(said["blocks"])
    assert fake.messages("C0MANY") == []
    with unit_of_work(read_only=True) as session:
        from storage.models import Partner

        assert session.scalars(select(Partner.slack_channel_id)).one() is None
