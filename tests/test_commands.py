"""/partner end to end: signed HTTP requests to the real Bolt app, replies read
from what the fake Slack received on the response_url."""

from sqlalchemy import func, select

from storage.db import unit_of_work
from storage.models import Interaction, Partner
from tests.conftest import texts


def count(model):
    with unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_help_is_ephemeral_and_lists_every_subcommand(slack_app):
    reply = slack_app.command("")
    assert reply["response_type"] == "ephemeral"
    body = texts(reply["blocks"])
    for word in ("status", "add", "list", "log", "stage"):
        assert f"/partner {word}" in body


def test_add_then_status_shows_the_card(slack_app):
    reply = slack_app.command('add "Acme Corp" type:channel tier:Gold', user="UOWNER1")
    assert "Added *Acme Corp*" in texts(reply["blocks"])
    card = slack_app.command("status “acme corp”", user="UOWNER2")
    body = texts(card["blocks"])
    assert card["response_type"] == "ephemeral"
    assert card["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "Acme Corp", "emoji": True}}
    assert "Gold" in body and "<@UOWNER1>" in body and "onboarding" in body
    assert "Health" in body
    assert card["text"].startswith("Acme Corp")


def test_add_defaults_owner_to_caller_and_accepts_picked_owner(slack_app):
    slack_app.command("add Globex type:technology owner:<@UOTHER9|olga>", user="UOWNER1")
    with unit_of_work() as s:
        assert s.scalar(select(Partner.owner_id).where(Partner.name == "Globex")) == "UOTHER9"


def test_duplicate_name_is_refused_case_insensitively(slack_app):
    slack_app.command("add Acme type:channel")
    reply = slack_app.command("add ACME type:alliance")
    assert "already exists" in texts(reply["blocks"])
    assert count(Partner) == 1


def test_log_records_interaction_and_escapes_user_text(slack_app):
    slack_app.command("add Acme type:channel")
    reply = slack_app.command("log acme call told &lt;!channel&gt; about <!here> & <@U999|mallory>")
    body = texts(reply["blocks"])
    assert "&lt;!channel&gt;" in body
    assert "<!channel>" not in body and "<!here>" not in body and "<@U999" not in body
    with unit_of_work() as s:
        interaction = s.scalars(select(Interaction)).one()
    assert interaction.kind == "call"
    assert interaction.summary == "told <!channel> about @here & @mallory"
    assert interaction.channel_id == "C0GENERAL"
    card = texts(slack_app.command("status acme")["blocks"])
    assert "told &lt;!channel&gt; about @here &amp; @mallory" in card


def test_log_without_kind_is_a_note_and_says_so(slack_app):
    slack_app.command("add Acme type:channel")
    reply = slack_app.command("log acme quick sync on pricing")
    assert "logged as a note" in texts(reply["blocks"])


def test_log_near_miss_kind_is_refused_with_suggestion(slack_app):
    slack_app.command("add Acme type:channel")
    reply = slack_app.command("log acme cal went well")
    assert "Did you mean `call`" in texts(reply["blocks"])
    assert count(Interaction) == 0


def test_unknown_partner_suggests_and_writes_nothing(slack_app):
    slack_app.command('add "Northwind Systems" type:channel')
    reply = slack_app.command("log northwnd call hello")
    body = texts(reply["blocks"])
    assert "No partner is called `northwnd`" in body
    assert "Northwind Systems" in body
    assert "Usage: `/partner log" in body
    assert count(Interaction) == 0


def test_ambiguous_prefix_lists_candidates(slack_app):
    slack_app.command("add Acme type:channel")
    slack_app.command('add "Acme Labs" type:technology confirm:yes')  # a prefix of Acme: asked first
    body = texts(slack_app.command("status ac")["blocks"])
    assert "matches several partners" in body and "Acme Labs" in body
    # Exact beats prefix, and the longest exact run of words wins.
    assert slack_app.command("status acme")["blocks"][0]["text"]["text"] == "Acme"
    assert slack_app.command("status acme labs")["blocks"][0]["text"]["text"] == "Acme Labs"


def test_stage_only_owner_or_admin(slack_app):
    slack_app.command("add Acme type:channel", user="UOWNER1")
    refused = slack_app.command("stage acme active", user="USTRANGER")
    assert "Only Acme's owner <@UOWNER1> or an admin" in texts(refused["blocks"])
    with unit_of_work() as s:
        assert s.scalar(select(Partner.stage)) == "onboarding"
    assert "onboarding → *active*" in texts(slack_app.command("stage acme active", user="UADMIN1")["blocks"])


def test_portfolio_worst_health_first(slack_app):
    slack_app.command("add Zen type:channel", user="UOWNER1")
    slack_app.command("add Risky type:channel", user="UOWNER1")
    slack_app.command("stage risky at-risk", user="UOWNER1")
    slack_app.command("add Elsewhere type:channel", user="UOWNER2")
    body = texts(slack_app.command("status", user="UOWNER1")["blocks"])
    assert "2 partners" in body
    assert body.index("Risky") < body.index("Zen")
    assert "Elsewhere" not in body


def test_list_filters_and_pages(slack_app):
    with unit_of_work() as s:
        from datetime import datetime, timezone

        from storage import partners

        for i in range(60):
            partners.create(session=s, name=f"P{i:02d}", type="channel" if i % 2 else "alliance", tier=None,
                            owner_id="UOWNER1", stage="active", created_by="UOWNER1", now=datetime.now(timezone.utc))
    reply = slack_app.command("list type:channel")
    body = texts(reply["blocks"])
    assert "30 partners · page 1 of 2" in body
    assert "P01" in body and "P00" not in body
    assert "… and 5 more" in body
    assert len(reply["blocks"]) <= 50
    next_button = reply["blocks"][-1]["elements"][0]
    response, url = slack_app.action(next_button["action_id"], next_button["value"])
    assert response.status_code == 200
    page2 = slack_app.reply_to(url)
    assert "page 2 of 2" in texts(page2["blocks"]) and page2["replace_original"] is True


def test_share_button_reposts_in_channel(slack_app):
    slack_app.command("add Acme type:channel")
    card = slack_app.command("status acme")
    share = card["blocks"][-1]["elements"][0]
    _, url = slack_app.action(share["action_id"], share["value"])
    shared = slack_app.reply_to(url)
    assert shared["response_type"] == "in_channel"
    assert shared["blocks"][0]["text"]["text"] == "Acme"
    assert all(b["type"] != "actions" for b in shared["blocks"])


def test_app_home_publishes_portfolio(slack_app):
    slack_app.command("add Acme type:channel", user="UOWNER1")
    response = slack_app.event({"type": "app_home_opened", "user": "UOWNER1", "channel": "D0DM", "tab": "home", "event_ts": "1.0"})
    assert response.status_code == 200
    (call,) = slack_app.fake.wait_for("views.publish")
    assert call.args["user_id"] == "UOWNER1"
    view = call.args["view"]
    assert view["type"] == "home" and "Acme" in texts(view["blocks"])


def test_unknown_subcommand_suggests(slack_app):
    body = texts(slack_app.command("stauts acme")["blocks"])
    assert "Did you mean `status`" in body


def test_guests_are_refused_and_nothing_is_written(slack_app):
    slack_app.fake.add_user("UGUEST1", is_restricted=True)
    reply = slack_app.command("add Acme type:channel", user="UGUEST1")
    assert "Guest accounts can't use partnerbot" in texts(reply["blocks"])
    assert count(Partner) == 0


def test_users_setting_limits_who_may_use_the_bot(fake_slack, database_url):
    from tests.conftest import make_settings, serve

    with serve(make_settings(DATABASE_URL=database_url, PARTNERBOT_USERS="UALLOWED1"), fake_slack) as app:
        assert "limited to a list of people" in texts(app.command("add Acme type:channel", user="UOTHER1")["blocks"])
        assert count(Partner) == 0
        assert "Added *Acme*" in texts(app.command("add Acme type:channel", user="UALLOWED1")["blocks"])


def test_owner_rename_archive_channel_and_reassign(slack_app):
    slack_app.command("add Acme type:channel", user="UOWNER1")
    slack_app.command("add Globex type:channel", user="UOWNER1")
    assert "Only Acme's owner" in texts(slack_app.command("owner acme <@UOTHER2|o>", user="USTRANGER")["blocks"])
    assert "now owned by <@UOTHER2>" in texts(slack_app.command("owner acme <@UOTHER2|o>", user="UOWNER1")["blocks"])
    assert "*Acme* is now *Acme Worldwide*" in texts(slack_app.command('rename acme "Acme Worldwide"', user="UOTHER2")["blocks"])
    assert "*Globex* already exists" in texts(slack_app.command("rename acme globex", user="UOTHER2")["blocks"])
    assert "linked to <#C0ACME>" in texts(slack_app.command("channel acme <#C0ACME|acme-shared>", user="UOTHER2")["blocks"])
    in_channel = slack_app.command("status", user="UOTHER2", channel="C0ACME")
    assert in_channel["blocks"][0]["text"]["text"] == "Acme Worldwide"
    assert "Only admins can reassign" in texts(slack_app.command("reassign <@UOWNER1> <@UNEW1>", user="UOWNER1")["blocks"])
    assert "Moved *1* partner from" in texts(slack_app.command("reassign <@UOWNER1> <@UNEW1>", user="UADMIN1")["blocks"])
    assert "Archived *Globex*" in texts(slack_app.command("archive globex", user="UNEW1")["blocks"])
    listing = texts(slack_app.command("list")["blocks"])
    assert "Globex" not in listing and "Acme Worldwide" in listing
    with unit_of_work() as s:
        assert {p.name: p.owner_id for p in s.scalars(select(Partner))} == {"Acme Worldwide": "UOTHER2", "Globex": "UNEW1"}


def test_undo_reverses_the_callers_last_changes_in_order(slack_app):
    from storage.models import KpiValue, Qbr

    slack_app.command("add Acme type:channel", user="UOWNER1")
    slack_app.command("kpi acme revenue 10k", user="UOWNER1")
    slack_app.command("kpi acme revenue 12k", user="UOWNER1")
    slack_app.command("stage acme active", user="UOWNER1")
    slack_app.command('rename acme "Acme Global"', user="UOWNER1")
    slack_app.command("qbr acme tomorrow", user="UOWNER1")
    slack_app.command("log acme call hi", user="UOWNER1")
    assert "You have no change" in texts(slack_app.command("undo", user="USOMEONE")["blocks"])
    assert "Undone: logged a call with Acme Global" in texts(slack_app.command("undo", user="UOWNER1")["blocks"])
    assert count(Interaction) == 0
    assert "Undone: scheduled a QBR" in texts(slack_app.command("undo", user="UOWNER1")["blocks"])
    assert count(Qbr) == 0
    slack_app.command("undo", user="UOWNER1")  # rename
    slack_app.command("undo", user="UOWNER1")  # stage
    with unit_of_work() as s:
        p = s.scalars(select(Partner)).one()
        assert (p.name, p.name_key, p.stage) == ("Acme", "acme", "onboarding")
    slack_app.command("undo", user="UOWNER1")  # kpi 12k → 10k
    with unit_of_work() as s:
        assert str(s.scalar(select(KpiValue.value))) == "10000.00"
    slack_app.command("undo", user="UOWNER1")  # kpi 10k → none
    slack_app.command("undo", user="UOWNER1")  # add
    assert count(Partner) == 0


def test_nothing_is_shared_into_a_channel_shared_with_another_organisation(slack_app):
    slack_app.command("add Acme type:channel")
    slack_app.fake.add_channel("C0SHARED", name="acme-connect")
    slack_app.fake.channels["C0SHARED"]["is_ext_shared"] = True
    card = slack_app.command("status acme", channel="C0SHARED")
    share = card["blocks"][-1]["elements"][0]
    _, url = slack_app.action(share["action_id"], share["value"], channel="C0SHARED")
    told = slack_app.reply_to(url)
    assert told["response_type"] == "ephemeral" and "shared with another organisation" in told["text"]
    assert "shared with another organisation" in texts(slack_app.command("route legal <#C0SHARED|x>", user="UADMIN1")["blocks"])


def test_a_read_only_reply_not_ready_in_time_is_acked_then_sent(slack_app, monkeypatch):
    """A reply that would make the ack late (a busy database, a big report) is acked empty
    within Slack's 3 seconds and sent through the response_url once ready."""
    from bot.listeners import command

    slack_app.command("add Acme type:channel", user="UOWNER1")
    monkeypatch.setattr(command, "READY_BUDGET", 0.0)
    response, url = slack_app.slash("status Acme", user="UOWNER1")
    assert response.status_code == 200 and not response.content
    assert "Acme" in texts(slack_app.reply_to(url)["blocks"])
