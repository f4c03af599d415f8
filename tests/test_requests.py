"""Cross-functional requests end to end: ask → channel post → Claim / Resolve
buttons (real block_actions payloads) → message updated, requester DM'd."""

import threading

from sqlalchemy import func, select

from views.ids import Action
from storage.db import unit_of_work
from storage.models import HelpRequest, Interaction, Route
from tests.conftest import texts


def setup_partner(slack_app):
    slack_app.command('add "Acme Corp" type:channel tier:Gold', user="UOWNER1")


def route(slack_app, team="legal", channel="C0LEGAL"):
    slack_app.fake.add_channel(channel, name=f"{team}-requests", is_member=True)
    reply = slack_app.command(f"route {team} <#{channel}|{team}-requests>", user="UADMIN1")
    assert f"requests now go to <#{channel}>" in texts(reply["blocks"]), reply


def ask(slack_app, text="acme please review the NDA redlines", team="legal"):
    reply = slack_app.command(f"ask {team} {text}", user="UREQ1")
    (post,) = slack_app.fake.wait_for("chat.postMessage")
    return reply, post


def request_row():
    with unit_of_work() as s:
        return s.scalars(select(HelpRequest)).one()


def test_ask_posts_to_routed_channel_with_buttons_and_confirms_with_link(slack_app):
    setup_partner(slack_app)
    route(slack_app)
    reply, post = ask(slack_app, "acme review &lt;!channel&gt; <!here> NDA &amp; MSA <@U999|eve>")
    assert post.args["channel"] == "C0LEGAL"
    body = texts(post.args["blocks"])
    assert "Legal request #1" in body and "*Acme Corp* (channel, Gold, owner <@UOWNER1>)" in body
    assert "review &lt;!channel&gt; @here NDA &amp; MSA @eve" in body
    assert "<!channel>" not in body and "<@U999" not in body
    buttons = [e["action_id"] for b in post.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [Action.REQUEST_CLAIM, Action.REQUEST_RESOLVE, Action.REQUEST_NOTE]
    confirmation = texts(reply["blocks"])
    assert reply["response_type"] == "ephemeral"
    assert "Sent legal request *#1*" in confirmation and "https://fake.slack.com/archives/C0LEGAL/p" in confirmation
    row = request_row()
    assert (row.status, row.channel_id, row.message_ts) == ("open", "C0LEGAL", post.args.get("ts") or row.message_ts)


def test_unrouted_team_lists_routed_ones(slack_app):
    setup_partner(slack_app)
    route(slack_app)
    reply = slack_app.command("ask security acme pen test report", user="UREQ1")
    body = texts(reply["blocks"])
    assert "No channel is set for `security`" in body and "`legal`" in body
    with unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(HelpRequest)) == 0


def test_route_adds_a_new_team_and_route_alone_lists_it(slack_app):
    setup_partner(slack_app)
    route(slack_app, "security", "C0SEC")
    listing = texts(slack_app.command("route")["blocks"])
    assert "*security* → <#C0SEC>" in listing
    _, post = ask(slack_app, "acme pen test report", team="security")
    assert post.args["channel"] == "C0SEC"


def test_route_is_admin_only(slack_app):
    reply = slack_app.command("route legal <#C0LEGAL|legal>", user="UNOTADMIN")
    assert "Only admins can change where requests go" in texts(reply["blocks"])
    with unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Route)) == 0


def test_route_joins_public_channel_and_refuses_private_one(slack_app):
    slack_app.fake.add_channel("C0PUB", name="legal", is_member=False)
    slack_app.command("route legal <#C0PUB|legal>", user="UADMIN1")
    assert slack_app.fake.wait_for("conversations.join")[0].args["channel"] == "C0PUB"
    slack_app.fake.add_channel("G0PRIV", name="secret", is_private=True, is_member=False)
    reply = slack_app.command("route finance <#G0PRIV|secret>", user="UADMIN1")
    assert "Invite me there" in texts(reply["blocks"])
    with unit_of_work() as s:
        assert s.get(Route, "finance") is None


def click(slack_app, post, action_id, user):
    (button,) = [e for b in post.args["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == action_id]
    response, url = slack_app.action(action_id, button["value"], user=user, channel=post.args["channel"])
    assert response.status_code == 200
    return url


def test_claim_then_resolve_updates_message_and_dms_requester(slack_app):
    setup_partner(slack_app)
    route(slack_app)
    _, post = ask(slack_app)
    click(slack_app, post, Action.REQUEST_CLAIM, "ULAWYER")
    (update,) = slack_app.fake.wait_for("chat.update")
    assert "Claimed by <@ULAWYER>" in texts(update.args["blocks"])
    assert Action.REQUEST_CLAIM not in str(update.args["blocks"])
    dms = slack_app.fake.wait_for("chat.postMessage", 2)
    assert dms[1].args["channel"] == "UREQ1"
    assert "<@ULAWYER> claimed your legal request #1 for *Acme Corp*" in texts(dms[1].args["blocks"])
    assert "please review the NDA redlines" in texts(dms[1].args["blocks"])

    # Resolve opens a modal (trigger_id first), the submission resolves.
    click(slack_app, post, Action.REQUEST_RESOLVE, "ULAWYER")
    (opened,) = slack_app.fake.wait_for("views.open")
    assert opened.args["view"]["private_metadata"] == "1"
    slack_app.submit_view(opened.args["view"], {"text": {"value": {"type": "plain_text_input", "value": "Signed v3 & sent"}}}, user="ULAWYER")
    updates = slack_app.fake.wait_for("chat.update", 2)
    assert "Resolved by <@ULAWYER>" in texts(updates[1].args["blocks"])
    assert "Signed v3 &amp; sent" in texts(updates[1].args["blocks"])
    dm = slack_app.fake.wait_for("chat.postMessage", 3)[2]
    assert dm.args["channel"] == "UREQ1" and "resolved your legal request #1" in texts(dm.args["blocks"])
    row = request_row()
    assert (row.status, row.claimed_by, row.resolved_by, row.resolution) == ("resolved", "ULAWYER", "ULAWYER", "Signed v3 & sent")
    with unit_of_work() as s:
        history = list(s.scalars(select(Interaction.summary).order_by(Interaction.id)))
    assert history == [
        "Asked legal: please review the NDA redlines",
        "Legal request #1 claimed",
        "Legal request #1 resolved: Signed v3 & sent",
    ]


def test_second_claim_is_told_who_has_it(slack_app):
    setup_partner(slack_app)
    route(slack_app)
    _, post = ask(slack_app)
    click(slack_app, post, Action.REQUEST_CLAIM, "ULAWYER")
    slack_app.fake.wait_for("chat.update")
    url = click(slack_app, post, Action.REQUEST_CLAIM, "UOTHER")
    told = slack_app.reply_to(url)
    assert told["response_type"] == "ephemeral" and told["replace_original"] is False
    assert "already claimed by <@ULAWYER>" in texts(told["blocks"])
    assert request_row().claimed_by == "ULAWYER"


def test_concurrent_claims_have_exactly_one_winner(slack_app):
    setup_partner(slack_app)
    route(slack_app)
    _, post = ask(slack_app)
    urls = {}

    def claim(user):
        urls[user] = click(slack_app, post, Action.REQUEST_CLAIM, user)

    threads = [threading.Thread(target=claim, args=(f"UCLAIM{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Claims are written after the ack: the request message is updated once the winner's claim is committed.
    slack_app.fake.wait_for("chat.update")
    winner = request_row().claimed_by
    assert winner.startswith("UCLAIM")
    losers = [u for u in urls if u != winner]
    for user in losers:
        assert f"already claimed by <@{winner}>" in texts(slack_app.reply_to(urls[user])["blocks"])
    assert len(slack_app.fake.wait_for("chat.update")) == 1


def test_button_for_missing_request_is_a_clear_answer(slack_app):
    response, url = slack_app.action(Action.REQUEST_CLAIM, "999")
    assert response.status_code == 200
    assert "no longer exists" in texts(slack_app.reply_to(url)["blocks"])


def test_not_in_channel_keeps_request_and_offers_repost(slack_app):
    setup_partner(slack_app)
    route(slack_app)
    slack_app.fake.fail_next("chat.postMessage", "not_in_channel")
    reply = slack_app.command("ask legal acme please review", user="UREQ1")
    body = texts(reply["blocks"])
    assert "I'm not in <#C0LEGAL>" in body and "/invite @partnerbot" in body
    row = request_row()
    assert row.status == "open" and row.message_ts is None and row.post_error == "not_in_channel"
    repost = reply["blocks"][-1]["elements"][0]
    assert repost["action_id"] == Action.REQUEST_REPOST
    response, url = slack_app.action(repost["action_id"], repost["value"], user="UREQ1")
    assert "Sent legal request *#1*" in texts(slack_app.reply_to(url)["blocks"])
    assert request_row().message_ts is not None


def test_requests_lists_oldest_first_and_status_filters(slack_app):
    setup_partner(slack_app)
    route(slack_app)
    route(slack_app, "finance", "C0FIN")
    slack_app.command("ask legal acme first", user="UREQ1")
    slack_app.command("ask finance acme second", user="UREQ2")
    slack_app.fake.wait_for("chat.postMessage", 2)
    body = texts(slack_app.command("requests", user="UREQ1")["blocks"])
    assert body.index("first") < body.index("second")
    mine = texts(slack_app.command("requests mine", user="UREQ2")["blocks"])
    assert "second" in mine and "first" not in mine
    finance = texts(slack_app.command("requests finance")["blocks"])
    assert "second" in finance and "first" not in finance


def test_add_note_modal_posts_in_thread_and_dms(slack_app):
    setup_partner(slack_app)
    route(slack_app)
    _, post = ask(slack_app)
    click(slack_app, post, Action.REQUEST_NOTE, "ULAWYER")
    (opened,) = slack_app.fake.wait_for("views.open")
    slack_app.submit_view(opened.args["view"], {"text": {"value": {"type": "plain_text_input", "value": "Need the v2 PDF"}}}, user="ULAWYER")
    posts = slack_app.fake.wait_for("chat.postMessage", 3)
    thread = [p for p in posts if p.args.get("thread_ts")]
    assert thread and "Need the v2 PDF" in texts(thread[0].args["blocks"])
    assert any(p.args["channel"] == "UREQ1" and "New note" in texts(p.args["blocks"]) for p in posts)


def test_requests_list_pages_with_a_next_button(slack_app):
    from datetime import datetime, timedelta, timezone

    from storage import requests as request_store

    setup_partner(slack_app)
    start = datetime.now(timezone.utc) - timedelta(days=2)
    with unit_of_work() as s:
        for n in range(45):
            request_store.create(session=s, partner_id=1, team="legal", text=f"need {n:02d}", requester_id="UREQ1",
                                 origin_channel_id=None, due_on=None, now=start + timedelta(minutes=n))
    first = slack_app.command("requests legal")
    body = texts(first["blocks"])
    assert "page 1 of 2" in body and "need 00" in body and "need 30" not in body and "… and 15 more" in body
    assert len(first["blocks"]) <= 50
    button = first["blocks"][-1]["elements"][0]
    assert button["value"] == "requests legal page:2"
    _, url = slack_app.action(button["action_id"], button["value"])
    second = texts(slack_app.reply_to(url)["blocks"])
    assert "page 2 of 2" in second and "need 44" in second and "need 00" not in second


def test_route_with_a_user_group(slack_app):
    slack_app.fake.add_channel("C0LEGAL", name="legal")
    reply = slack_app.command("route legal <#C0LEGAL|legal> <!subteam^S0LEGAL|@legal-team>", user="UADMIN1")
    assert "escalations mention <!subteam^S0LEGAL>" in texts(reply["blocks"])
    with unit_of_work() as s:
        assert s.get(Route, "legal").usergroup_id == "S0LEGAL"
    assert "user group picked from the @ autocomplete" in texts(slack_app.command("route legal <#C0LEGAL|legal> legal-team", user="UADMIN1")["blocks"])


def test_what_a_click_sends_goes_through_the_ledger_and_the_retry_job(slack_app, settings):
    """One way out: a claim's DM that Slack refuses is kept and sent once by the retry job;
    the claim's in-place update, refused too, is not repeated after the resolve replaced it."""
    from datetime import datetime, timedelta, timezone

    from bot.slack import JobSlack
    from jobs.runner import run_job

    setup_partner(slack_app)
    route(slack_app)
    _, post = ask(slack_app)
    slack_app.fake.fail_next("chat.update", "internal_error")
    slack_app.fake.fail_next("chat.postMessage", "internal_error")
    click(slack_app, post, Action.REQUEST_CLAIM, "ULAWYER")
    slack_app.fake.wait_for("chat.postMessage", 2)  # the request, then the refused DM
    click(slack_app, post, Action.REQUEST_RESOLVE, "ULAWYER")
    (opened,) = slack_app.fake.wait_for("views.open")
    slack_app.submit_view(opened.args["view"], {"text": {"value": {"type": "plain_text_input", "value": "Done"}}}, user="ULAWYER")
    slack_app.fake.wait_for("chat.postMessage", 3)  # the resolved DM
    slack_app.settle()
    updates_before = len(slack_app.fake.calls_to("chat.update"))

    later = datetime.now(timezone.utc) + timedelta(minutes=15)
    result = run_job("retry", settings=settings, slack=JobSlack(slack_app.app.client, settings.zone), now=later)
    assert (result.sent, result.skipped) == (1, 1)
    dms = [c for c in slack_app.fake.calls_to("chat.postMessage") if c.args["channel"] == "UREQ1"]
    told = [texts(c.args["blocks"]) for c in dms]
    assert len(told) == 3 and "claimed your legal request #1" in told[-1]  # refused once, resolved, then the retry
    assert len(slack_app.fake.calls_to("chat.update")) == updates_before  # the old "claimed" card never comes back
    assert run_job("retry", settings=settings, slack=JobSlack(slack_app.app.client, settings.zone), now=later).sent == 0


def test_an_update_claimed_before_a_newer_one_is_never_sent_after_it(slack_app, settings):
    """Two in-place updates of one message, sent out of order: the older is retired, not shown."""
    from datetime import datetime, timezone

    from core.messenger import Notification
    from jobs import delivery
    from bot.slack import JobSlack

    now = datetime.now(timezone.utc)
    ts = slack_app.app.client.chat_postMessage(channel="C0LEGAL", text="the request")["ts"]
    old = Notification("request-update", "request:9", "claimed", "C0LEGAL", "old", [], update_ts=ts)
    new = Notification("request-update", "request:9", "resolved", "C0LEGAL", "new", [], update_ts=ts)
    with unit_of_work() as session:
        owned = [delivery.claim(n, session=session, now=now) for n in (old, new)]
    sender = delivery.Sender(JobSlack(slack_app.app.client, settings.zone))
    assert [p.error for p in delivery.send_claimed([new, old], owned, sender=sender, now=now)] == [None, "superseded"]
    assert [c.args["text"] for c in slack_app.fake.calls_to("chat.update")] == ["new"]


def test_a_claim_whose_process_died_before_sending_is_sent_by_the_retry_job(slack_app, settings):
    """Everything a claim sends (the message updated, the requester's DM with its link) is
    claimed with the change: a process that dies right after the commit loses none of it."""
    from datetime import datetime, timedelta, timezone

    from bot.dispatch import run
    from bot.slack import JobSlack
    from commands import Caller, request_actions
    from jobs.runner import run_job

    setup_partner(slack_app)
    route(slack_app)
    ask(slack_app)
    slack_app.settle()
    job_slack = JobSlack(slack_app.app.client, settings.zone)
    # The claim commits, and the process "dies" before sending (follow_up=False, never followed).
    run(lambda ctx: request_actions.claim(ctx, 1), caller=Caller("ULAWYER", "C0LEGAL"), settings=settings, slack=job_slack,
        follow_up=False)
    assert slack_app.fake.calls_to("chat.update") == []
    result = run_job("retry", settings=settings, slack=job_slack, now=datetime.now(timezone.utc) + timedelta(minutes=15))
    assert result.sent == 2
    (update,) = slack_app.fake.calls_to("chat.update")
    assert "Claimed by <@ULAWYER>" in texts(update.args["blocks"])
    dm = [c for c in slack_app.fake.calls_to("chat.postMessage") if c.args["channel"] == "UREQ1"][-1]
    assert "<@ULAWYER> claimed your legal request #1" in texts(dm.args["blocks"])
    assert "https://fake.slack.com/archives/C0LEGAL/p" in texts(dm.args["blocks"])  # the link, asked for when sent
