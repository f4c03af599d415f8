"""Shortcuts, modals and App Home, through the same HTTP door Slack uses."""

from sqlalchemy import func, select

from views.ids import Action, Shortcut, View
from storage.db import unit_of_work
from storage.models import HelpRequest, Interaction
from tests.conftest import texts


def interactions():
    with unit_of_work() as s:
        return list(s.scalars(select(Interaction).order_by(Interaction.id)))


def test_log_to_partner_message_shortcut_prefills_and_logs_once(slack_app):
    slack_app.command('add "Acme Corp" type:channel', user="UOWNER1")
    response = slack_app.interactive({
        "type": "message_action", "callback_id": Shortcut.LOG, "trigger_id": "111.222.abc",
        "user": {"id": "UOWNER1"}, "channel": {"id": "C0PARTNER"}, "response_url": slack_app.fake.new_response_url(),
        "message": {"ts": "1700000123.000200", "user": "UPARTNER", "text": "Agreed on &lt;Q3&gt; plan &amp; pricing"},
    })
    assert response.status_code == 200
    (opened,) = slack_app.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == View.LOG
    summary = next(b for b in view["blocks"] if b["block_id"] == "text")["element"]["initial_value"]
    assert summary == "Agreed on <Q3> plan & pricing"  # modal inputs hold the raw text

    # The partner picker asks for options while typing.
    options = slack_app.interactive({"type": "block_suggestion", "action_id": Action.PARTNER_PICK, "block_id": "partner",
                                     "value": "acm", "user": {"id": "UOWNER1"}, "view": {"id": "V1", "type": "modal"}})
    assert options.json()["options"][0]["text"]["text"] == "Acme Corp"
    partner_value = options.json()["options"][0]["value"]

    values = {
        "partner": {Action.PARTNER_PICK: {"type": "external_select", "selected_option": {"value": partner_value, "text": {"type": "plain_text", "text": "Acme Corp"}}}},
        "kind": {"value": {"type": "static_select", "selected_option": {"value": "meeting"}}},
        "text": {"value": {"type": "plain_text_input", "value": summary}},
        "date": {"value": {"type": "datepicker", "selected_date": None}},
    }
    slack_app.submit_view(view, values, user="UOWNER1")
    slack_app.submit_view(view, values, user="UOWNER1")  # Slack delivered it twice
    (logged,) = interactions()
    assert logged.kind == "meeting" and logged.summary.startswith("Agreed on <Q3> plan & pricing")
    assert "https://acme-partners.slack.com/archives/C0PARTNER/p1700000123000200" in logged.summary
    assert "<@UPARTNER>" in logged.summary


def test_log_modal_refuses_future_date_on_the_form(slack_app):
    slack_app.command("add Acme type:channel", user="UOWNER1")
    from datetime import date, timedelta

    values = {
        "partner": {Action.PARTNER_PICK: {"selected_option": {"value": "1"}}},
        "kind": {"value": {"selected_option": {"value": "call"}}},
        "text": {"value": {"value": "later"}},
        "date": {"value": {"selected_date": (date.today() + timedelta(days=3)).isoformat()}},
    }
    response = slack_app.submit_view({"callback_id": View.LOG, "type": "modal", "private_metadata": "{}", "blocks": []}, values)
    assert response.json() == {"response_action": "errors", "errors": {"text": "That date is in the future; log what already happened."}}
    assert interactions() == []


def test_app_home_dashboard_with_buttons_and_partner_card_modal(slack_app):
    slack_app.command("add Acme type:channel", user="UOWNER1")
    slack_app.command("qbr acme in 2 weeks", user="UOWNER1")
    slack_app.event({"type": "app_home_opened", "user": "UOWNER1", "channel": "D0DM", "tab": "home", "event_ts": "1.0"})
    (publish,) = slack_app.fake.wait_for("views.publish")
    blocks = publish.args["view"]["blocks"]
    assert len(blocks) <= 100
    body = texts(blocks)
    assert "*Next QBRs*" in body and "*Acme*" in body
    log_button = blocks[1]["elements"][0]
    assert log_button["action_id"] == Action.HOME_LOG
    open_button = next(b["accessory"] for b in blocks if b.get("accessory"))
    response, _ = slack_app.action(open_button["action_id"], open_button["value"], user="UOWNER1")
    assert response.status_code == 200
    (update,) = slack_app.fake.wait_for("views.update")
    assert update.args["view"]["title"]["text"] == "Acme"
    assert "Health" in texts(update.args["view"]["blocks"])


def test_ask_a_team_global_shortcut(slack_app):
    slack_app.command("add Acme type:channel", user="UOWNER1")
    slack_app.fake.add_channel("C0LEGAL", name="legal", is_member=True)
    slack_app.command("route legal <#C0LEGAL|legal>", user="UADMIN1")
    slack_app.interactive({"type": "shortcut", "callback_id": Shortcut.ASK, "trigger_id": "333.444.def", "user": {"id": "UREQ1"}})
    (opened,) = slack_app.fake.wait_for("views.open")
    (updated,) = slack_app.fake.wait_for("views.update")
    team_block = updated.args["view"]["blocks"][0]
    assert [o["value"] for o in team_block["element"]["options"]] == ["legal"]
    values = {
        "team": {"value": {"selected_option": {"value": "legal"}}},
        "partner": {Action.PARTNER_PICK: {"selected_option": {"value": "1"}}},
        "text": {"value": {"value": "Review the reseller addendum"}},
        "due": {"value": {"selected_date": None}},
    }
    slack_app.submit_view(updated.args["view"], values, user="UREQ1")
    posts = slack_app.fake.wait_for("chat.postMessage", 2)
    assert posts[0].args["channel"] == "C0LEGAL" and "Review the reseller addendum" in texts(posts[0].args["blocks"])
    assert posts[1].args["channel"] == "UREQ1" and "Sent legal request *#1*" in texts(posts[1].args["blocks"])
    with unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(HelpRequest)) == 1
