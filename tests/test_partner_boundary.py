"""The partner-channel boundary, proven (issue 15): nothing internal crosses into a Slack
Connect channel or reaches a person of another organisation, through the same door
Slack uses (signed requests to the real Bolt app, our fake Slack Web API).

A person of the partner's organisation (UEXT1, team T0OTHER) tries every surface: every
`/partner` subcommand, every button, shortcut, form, suggestion and App Home, in its
partner channel and elsewhere, with values naming other partners, requests and deals.
Forged payloads, a link removed and a channel that stops being shared are refused. A
canary seeded into every internal field must never be in anything posted to a partner
channel or shown to the partner's people, while what the partner should see arrives."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.access import GUEST, NOT_LISTED, OUTSIDER, UNLINKED
from bot.app import web_client
from bot.slack import JobSlack
from commands import SUBCOMMANDS
from commands.desk import CLOSED, ONLY
from jobs.runner import run_job, specs
from storage.db import unit_of_work
from storage.health import HEALTH_WRITE
from storage.models import Base, Change, DealRegistration, DeskForm, HelpRequest, Partner, PartnerActivity
from tests.conftest import serve, texts
from views.ids import Action, Block, Shortcut, View

SHARED = "C0ACMEX"  # Acme's Slack Connect channel: its partner channel
HOOLI_SHARED = "C0HOOLI"  # another partner's Slack Connect channel
INITECH_INTERNAL = "C0INITECH"  # a channel linked to a partner, but not shared
GENERAL = "C0GENERAL"  # an ordinary internal channel, no partner's
EXTERNAL, OTHER_ORG = "UEXT1", "T0OTHER"  # Acme's person
HOOLI_PERSON, HOOLI_ORG = "UEXT2", "T0HOOLI"
PARTNER_SIDE = {SHARED, HOOLI_SHARED, EXTERNAL, "D" + EXTERNAL, HOOLI_PERSON, "D" + HOOLI_PERSON}
INITECH = "Canary-7f3a Initech"  # another partner, holding Acme's customer first
CANARY = "CANARY-7f3a"
# Anything internal, looked for case-insensitively in what the partner side received: the
# canary in every internal field, the other partner's name, internal channels and people.
INTERNAL_MARKS = ("7f3a", "initech", "c0legal", "c0product", "ulegal1", "uprod1", "crm")


def row_counts() -> dict[str, int]:
    with unit_of_work() as s:
        # seen_events is the Events API de-duplication log, not the partner record.
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
                if t.name != "seen_events"}


def partner_id(name: str) -> int:
    with unit_of_work(read_only=True) as s:
        return s.scalar(select(Partner.id).where(Partner.name == name))


@dataclass
class Door:
    """Slack's side of the door: sends what Slack would, and keeps which answers went to the
    partner's people (their acks, reply URLs, forms) so all of it can be searched at the end."""

    app: Any
    acks: list[Any] = field(default_factory=list)  # ack bodies a partner's person saw (replies, form errors, options)
    urls: set[str] = field(default_factory=set)  # response_url paths of a partner's person's requests
    shared_urls: set[str] = field(default_factory=set)  # of anyone's requests in a partner channel
    triggers: set[str] = field(default_factory=set)  # trigger_ids of a partner's person's requests

    @property
    def fake(self):
        return self.app.fake

    def _note(self, user: str, channel: str | None, url: str | None, trigger: str | None, ack: Any = None) -> None:
        path = "/" + url.split("/", 3)[3] if url else None
        if user in PARTNER_SIDE:
            if path:
                self.urls.add(path)
            if trigger:
                self.triggers.add(trigger)
            if ack:
                self.acks.append(ack)
        if channel in PARTNER_SIDE and path:
            self.shared_urls.add(path)

    def command(self, text: str, *, user: str = EXTERNAL, channel: str = SHARED) -> dict[str, Any]:
        response, url = self.app.slash(text, user=user, channel=channel)
        assert response.status_code == 200, response.text
        self._note(user, channel, url, None, response.content and response.json())
        reply = self.app.answer(response, url)
        self.app.settle()
        return reply

    def _team(self, user: str) -> str:
        return {EXTERNAL: OTHER_ORG, HOOLI_PERSON: HOOLI_ORG}.get(user, "T0TEAM")

    def click(self, action_id: str, value: str = "", *, user: str = EXTERNAL, channel: str = SHARED) -> tuple[Any, str]:
        url, trigger = self.fake.new_response_url(), f"{user}.{uuid.uuid4().hex[:10]}"
        payload = {
            "type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": self._team(user)},
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel, "is_ephemeral": False},
            "trigger_id": trigger, "channel": {"id": channel, "name": "x"}, "response_url": url,
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                         "action_ts": "1700000001.000200", "text": {"type": "plain_text", "text": "x"}}],
        }
        response = self.app.interactive(payload)
        self._note(user, channel, url, trigger, response.json() if response.content not in (b"", b"{}") else None)
        self.app.settle()
        return response, url

    def replies(self, url: str) -> list[dict[str, Any]]:
        path = "/" + url.split("/", 3)[3]
        return [c.args for c in self.fake.responses() if c.path == path]

    def shortcut(self, callback_id: str, *, user: str = EXTERNAL, channel: str | None = None) -> str:
        """A global shortcut, or (with `channel`) a message shortcut on a message there; its trigger_id."""
        trigger = f"{user}.{uuid.uuid4().hex[:10]}"
        payload: dict[str, Any] = {"type": "shortcut", "callback_id": callback_id, "trigger_id": trigger,
                                   "user": {"id": user, "team_id": self._team(user)}}
        url = None
        if channel:
            url = self.fake.new_response_url()
            payload.update(type="message_action", channel={"id": channel}, response_url=url,
                           message={"ts": "1700000123.000200", "user": EXTERNAL, "text": "Let's plan the launch"})
        response = self.app.interactive(payload)
        assert response.status_code == 200
        self._note(user, channel, url, trigger)
        self.app.settle()
        return trigger

    def submit(self, callback_id: str, values: dict[str, Any], *, view_id: str = "V0NEVER", user: str = EXTERNAL,
               private_metadata: str = "") -> dict[str, Any]:
        response = self.app.submit_view({"type": "modal", "callback_id": callback_id, "private_metadata": private_metadata},
                                        values, user=user, view_id=view_id, user_team=self._team(user))
        body = response.json() if response.content not in (b"", b"{}") else {}
        self._note(user, None, None, None, body)
        self.app.settle()
        return body

    def desk_form(self, action: str, *, user: str = EXTERNAL, channel: str = SHARED) -> str | None:
        """Click Register a deal / Ask for help: the id of the form the desk remembered, if any."""
        self.click(action, user=user, channel=channel)
        with unit_of_work(read_only=True) as s:
            return s.scalars(select(DeskForm.view_id).where(DeskForm.user_id == user, DeskForm.channel_id == channel)
                             .order_by(DeskForm.created_at.desc())).first()

    def suggest(self, value: str, *, user: str = EXTERNAL) -> dict[str, Any]:
        response = self.app.interactive({"type": "block_suggestion", "action_id": Action.PARTNER_PICK, "block_id": "partner",
                                         "value": value, "user": {"id": user, "team_id": self._team(user)},
                                         "view": {"id": "V0ANY", "type": "modal"}})
        body = response.json()
        self._note(user, None, None, None, body)
        return body

    def home(self, user: str = EXTERNAL) -> None:
        self.app.event({"type": "app_home_opened", "user": user, "channel": "D0DM", "tab": "home", "event_ts": "1.0"})
        self.app.settle()

    def seen(self) -> list[tuple[str, str]]:
        """Everything that reached a partner channel or a partner's person, serialized: posts,
        updates and files in a partner channel, DMs to them, replies to their requests (and
        any reply to anyone made public in a partner channel), their forms, their App Home."""
        calls = self.fake.calls
        views = {c.result["view"]["id"] for c in calls if c.method in ("views.open", "views.push") and c.result
                 and c.result.get("ok") and c.args.get("trigger_id") in self.triggers}
        files = {f.get("id") for c in calls if c.method == "files.completeUploadExternal"
                 and (c.args.get("channel_id") or c.args.get("channels")) in PARTNER_SIDE for f in c.args.get("files") or []}
        out = [("ack", json.dumps(ack)) for ack in self.acks]
        for c in calls:
            args = c.args
            if c.method == "response_url":
                hit = c.path in self.urls or (c.path in self.shared_urls and args.get("response_type") == "in_channel")
            elif c.method in ("views.open", "views.push"):
                hit = args.get("trigger_id") in self.triggers
            elif c.method == "views.update":
                hit = args.get("view_id") in views
            elif c.method == "views.publish":
                hit = args.get("user_id") in PARTNER_SIDE
            elif c.method == "upload":
                hit = c.path.rsplit("/", 1)[-1] in files
            else:
                hit = bool({args.get("channel"), args.get("channel_id"), args.get("user")} & PARTNER_SIDE)
            if hit:
                out.append((c.method, c.body.decode("utf-8", "replace") if c.method == "upload" else json.dumps(args)))
        return out


def leaks(seen: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    return [(where, mark, blob[:300]) for where, blob in seen for mark in INTERNAL_MARKS if mark in blob.casefold()]


def posted(fake, channel: str) -> list[dict[str, Any]]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def text_of(args: dict[str, Any]) -> str:
    return (args.get("text") or "") + "\n" + texts(args.get("blocks") or [])


def deal_values(customer: str, amount: str = "25k", close: str = "2099-03-31", notes: str = "") -> dict[str, Any]:
    return {
        Block.CUSTOMER: {Action.INPUT: {"type": "plain_text_input", "value": customer}},
        Block.AMOUNT: {Action.INPUT: {"type": "plain_text_input", "value": amount}},
        Block.CLOSE: {Action.INPUT: {"type": "datepicker", "selected_date": close}},
        Block.NOTES: {Action.INPUT: {"type": "plain_text_input", "value": notes}},
    }


def help_values(category: str, text: str) -> dict[str, Any]:
    return {Block.CATEGORY: {Action.INPUT: {"type": "static_select", "selected_option": {"value": category}}},
            Block.TEXT: {Action.INPUT: {"type": "plain_text_input", "value": text}}}


def text_values(text: str, *, to_partner: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {Block.TEXT: {Action.INPUT: {"type": "plain_text_input", "value": text}}}
    if to_partner:
        values[Block.TO_PARTNER] = {Action.INPUT: {"type": "checkboxes", "selected_options": [{"value": "send"}]}}
    return values


@dataclass
class World:
    app: Any
    door: Door
    acme: int
    initech: int
    hooli: int
    internal_request: int
    initech_deal: int


@pytest.fixture
def world(slack_app) -> World:
    return build_world(slack_app)


def build_world(slack_app) -> World:
    """Acme (UOWNER1) linked to its Slack Connect channel, with Acme's person UEXT1; Hooli
    linked to its own shared channel, with Hooli's person; "Canary-7f3a Initech" linked to an
    internal channel and holding the customer Globex; legal and product routed; an internal
    request about Acme whose text carries the canary."""
    fake, command = slack_app.fake, slack_app.command
    fake.add_channel(SHARED, name="acme-shared", is_ext_shared=True)
    fake.add_channel(HOOLI_SHARED, name="hooli-shared", is_ext_shared=True)
    fake.add_channel(INITECH_INTERNAL, name="initech")
    fake.add_user(EXTERNAL, team_id=OTHER_ORG, name="pat")
    fake.add_user(HOOLI_PERSON, team_id=HOOLI_ORG, name="hana")
    command("add Acme type:channel", user="UOWNER1")
    command(f'add "{INITECH}" type:channel', user="UOWNER2")
    command("add Hooli type:channel", user="UOWNER3")
    command("route legal <#C0LEGAL|legal>", user="UADMIN1")
    command("route product <#C0PRODUCT|product>", user="UADMIN1")
    for owner, name, channel in (("UOWNER1", "Acme", SHARED), ("UOWNER3", "Hooli", HOOLI_SHARED),
                                 ("UOWNER2", f'"{INITECH}"', INITECH_INTERNAL)):
        command(f"channel {name} <#{channel}|x>", user=owner)
    command(f'deal "{INITECH}" Globex 10k', user="UOWNER2")
    command(f"ask legal Acme {CANARY} internal request: check their credit before renewal", user="UOWNER1")
    slack_app.settle()
    with unit_of_work(read_only=True) as s:
        request = s.scalar(select(HelpRequest.id))
        deal = s.scalar(select(DealRegistration.id))
    return World(slack_app, Door(slack_app), partner_id("Acme"), partner_id(INITECH), partner_id("Hooli"), request, deal)


# --- 1. every /partner subcommand typed by the partner's person ---------------------------------


def test_typed_by_the_partner_only_help_and_scorecard_answer_and_nothing_says_whether_a_partner_exists(world):
    door = world.door
    before = row_counts()
    for word in [*SUBCOMMANDS, "frobnicate"]:
        replies = [door.command(f"{word} {name} 10k") for name in ("Acme", INITECH, "Nosuchco")]
        if word == "help":
            assert all("register a deal" in r["text"] for r in replies), replies
        elif word == "scorecard":  # always Acme's own, whatever partner is named
            assert all(texts(r["blocks"]).startswith("Acme · scorecard") for r in replies), replies
        else:
            assert replies[0] == replies[1] == replies[2], (word, replies)
            assert replies[0]["text"] == ONLY and replies[0].get("response_type", "ephemeral") == "ephemeral", (word, replies)
    assert "register a deal" in door.command("")["text"]  # an empty line is help

    # Elsewhere — an internal channel, or one linked to a partner but not shared — the one outsider line.
    for channel in (GENERAL, INITECH_INTERNAL):
        for line in ("", "help", "scorecard", "scorecard Acme", "status Acme", "status Nosuchco", "frobnicate"):
            reply = door.command(line, channel=channel)
            assert reply["text"] == OUTSIDER, (channel, line, reply)
    assert row_counts() == before  # nothing written for any of it
    assert leaks(door.seen()) == []
    assert posted(world.app.fake, SHARED)[1:] == []  # only the desk (linking) was ever posted there


# --- 2. every button, shortcut, form, suggestion and App Home -------------------------------------


DESK_FORMS = {Action.DESK_DEAL: View.DESK_DEAL, Action.DESK_HELP: View.DESK_HELP}
# How each button refuses a person it does not serve (a new button must be placed here).
ANSWERED_BESIDE = {Action.SHARE, Action.PAGE, Action.REQUEST_CLAIM, Action.REQUEST_REPOST, Action.DEAL_APPROVE,
                   Action.DEAL_REJECT, Action.BRIEF_SHARE_SCORECARD}  # one line beside the message clicked
NOTICE_IN_FORM = {Action.HOME_LOG, Action.HOME_OPEN_PARTNER}  # the form opened at once becomes the refusal
EMPTY_FORM = {Action.REQUEST_NOTE, Action.REQUEST_RESOLVE, Action.DEAL_REJECT_REASON}  # refused when submitted
NO_LISTENER = {Action.PARTNER_PICK, Action.INPUT}  # inputs inside forms: no click of them is handled


def test_every_button_clicked_by_the_partner_is_refused_or_serves_only_its_own_partner(world):
    door, fake = world.door, world.app.fake
    assert {*DESK_FORMS, Action.DESK_SCORECARD, *ANSWERED_BESIDE, *NOTICE_IN_FORM, *EMPTY_FORM, *NO_LISTENER} == set(Action)
    values = [str(world.initech), str(world.internal_request), str(world.initech_deal), f'status "{INITECH}"']
    before = row_counts()
    opened_in_shared = 0
    for action in Action:
        for channel in (SHARED, GENERAL, INITECH_INTERNAL):
            for value in values:
                opens, updates = len(fake.calls_to("views.open")), len(fake.calls_to("views.update"))
                response, url = door.click(action, value, channel=channel)
                said = [r["text"] for r in door.replies(url)]
                opened, updated = fake.calls_to("views.open")[opens:], fake.calls_to("views.update")[updates:]
                notices = [texts(u.args["view"]["blocks"]) for u in updated]
                served = channel == SHARED
                where = (action, channel, value)
                if action == Action.DESK_SCORECARD:
                    (reply,) = door.replies(url)
                    assert texts(reply["blocks"]).startswith("Acme · scorecard") if served else said == [OUTSIDER], where
                elif action in DESK_FORMS:
                    assert [o.args["view"]["callback_id"] for o in opened] == [DESK_FORMS[action]], where
                    assert (said, notices) == (([], []) if served else ([], [OUTSIDER])), where
                    opened_in_shared += served
                elif action in ANSWERED_BESIDE:
                    assert (said, opened) == ([OUTSIDER], []), where
                elif action in NOTICE_IN_FORM:
                    assert (said, len(opened), notices) == ([], 1, [OUTSIDER]), where
                elif action in EMPTY_FORM:
                    assert (said, len(opened), notices) == ([], 1, []), where
                else:
                    assert (response.status_code, said, opened) == (404, [], []), where
    after = row_counts()
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {"desk_forms": opened_in_shared}
    with unit_of_work(read_only=True) as s:
        assert set(s.scalars(select(DeskForm.partner_id))) == {world.acme}  # never the partner a value named
        deal = s.get(DealRegistration, world.initech_deal)
        request = s.get(HelpRequest, world.internal_request)
        assert deal.decided_by is None and (request.status, request.claimed_by) == ("open", None)
    assert leaks(door.seen()) == []
    assert posted(fake, SHARED)[1:] == [] and posted(fake, GENERAL) == []


def test_shortcuts_suggestions_and_app_home_show_the_partner_nothing_of_ours(world):
    door, fake = world.door, world.app.fake
    before = row_counts()
    for shortcut in Shortcut:
        for channel in (None, SHARED, GENERAL):
            trigger = door.shortcut(shortcut, channel=channel)
            (opened,) = [c for c in fake.calls_to("views.open") if c.args["trigger_id"] == trigger]
            view_id = opened.result["view"]["id"]
            updates = [c for c in fake.calls_to("views.update") if c.args["view_id"] == view_id]
            assert [texts(u.args["view"]["blocks"]) for u in updates] == [OUTSIDER], (shortcut, channel, updates)
            assert "Acme" not in json.dumps(opened.args)
    for typed in ("a", "ac", "acme", "canary", "hoo", "x"):
        assert door.suggest(typed) == {"options": []}
    door.home()
    (publish,) = fake.calls_to("views.publish")
    assert publish.args["user_id"] == EXTERNAL and texts(publish.args["view"]["blocks"]) == OUTSIDER
    assert row_counts() == before
    assert leaks(door.seen()) == []


def test_every_form_submitted_by_the_partner_is_refused_unless_its_own_desk_opened_it(world):
    door, app = world.door, world.app
    rid, deal = world.internal_request, world.initech_deal
    # Forms opened at the desk by others, and one of the wrong kind.
    owners_form = door.desk_form(Action.DESK_DEAL, user="UOWNER1")
    hoolis_form = door.desk_form(Action.DESK_DEAL, user=HOOLI_PERSON, channel=HOOLI_SHARED)
    help_form = door.desk_form(Action.DESK_HELP)
    assert owners_form and hoolis_form and help_form
    before = row_counts()

    internal = {
        View.REQUEST_NOTE: (text_values("sneaky note"), str(rid)),
        View.REQUEST_RESOLVE: (text_values("resolved by the partner", to_partner=True), str(rid)),
        View.ASK: ({"team": {"value": {"selected_option": {"value": "legal"}}},
                    "partner": {Action.PARTNER_PICK: {"selected_option": {"value": str(world.initech)}}},
                    "text": {"value": {"value": "give me the deal desk numbers"}}, "due": {"value": {"selected_date": None}}}, ""),
        View.LOG: ({"partner": {Action.PARTNER_PICK: {"selected_option": {"value": str(world.acme)}}},
                    "kind": {"value": {"selected_option": {"value": "meeting"}}},
                    "text": {"value": {"value": "we met"}}, "date": {"value": {"selected_date": None}}}, ""),
        View.DEAL_REJECT: (text_values("no"), f"{deal}|"),
    }
    assert set(internal) | set(DESK_FORMS.values()) == set(View)  # every form is tried
    for callback, (values, metadata) in internal.items():
        body = door.submit(callback, values, private_metadata=metadata)
        assert body["response_action"] == "errors" and list(body["errors"].values()) == [OUTSIDER], (callback, body)

    desk_tries = [
        (View.DESK_DEAL, deal_values("Globex"), "V0NEVEROPENED"),  # a view id no desk ever opened
        (View.DESK_DEAL, deal_values("Globex"), owners_form),  # opened by someone else (our owner)
        (View.DESK_DEAL, deal_values("Globex"), hoolis_form),  # opened by another partner's person, in its channel
        (View.DESK_DEAL, deal_values("Globex"), help_form),  # opened by them, but for the other form
        (View.DESK_HELP, help_values("contracts", "send me everything"), "V0NEVEROPENED"),
        (View.DESK_HELP, help_values("contracts", "send me everything"), owners_form),
    ]
    for callback, values, view_id in desk_tries:
        body = door.submit(callback, values, view_id=view_id)
        assert body["response_action"] == "errors" and list(body["errors"].values()) == [CLOSED], (callback, view_id, body)
    assert row_counts() == before
    with unit_of_work(read_only=True) as s:
        assert s.get(DealRegistration, deal).decided_by is None and s.get(HelpRequest, rid).status == "open"
    assert leaks(door.seen()) == []
    assert posted(app.fake, SHARED)[1:] == []


# --- 3. forged payloads, a link removed, a channel no longer shared ----------------------------------


def test_the_desk_serves_only_the_partner_of_the_payloads_channel(world):
    """Slack signs the channel a click came from; the desk answers for that channel's partner
    alone, whatever the person's earlier channel or the button's value."""
    door, fake = world.door, world.app.fake
    _, url = door.click(Action.DESK_SCORECARD, str(world.acme), channel=HOOLI_SHARED)
    (card,) = door.replies(url)
    assert texts(card["blocks"]).startswith("Hooli · scorecard") and "Acme" not in json.dumps(card)
    view_id = door.desk_form(Action.DESK_DEAL, channel=HOOLI_SHARED)
    assert door.submit(View.DESK_DEAL, deal_values("Globex"), view_id=view_id) == {}
    with unit_of_work(read_only=True) as s:
        mine = s.scalars(select(DealRegistration).where(DealRegistration.registered_by == EXTERNAL)).one()
        assert mine.partner_id == world.hooli
    assert [m for m in posted(fake, SHARED)[1:]] == []  # nothing reached Acme's channel
    assert "Deal registration received" in text_of(posted(fake, HOOLI_SHARED)[-1])
    assert leaks(door.seen()) == []


def test_a_removed_link_closes_the_desk_and_nothing_is_written(world):
    door, app = world.door, world.app
    deal_form = door.desk_form(Action.DESK_DEAL)
    help_form = door.desk_form(Action.DESK_HELP)
    assert "no longer linked" in texts(app.command("channel Acme none", user="UOWNER1")["blocks"])
    app.settle()
    before = row_counts()
    for callback, values, view_id in ((View.DESK_DEAL, deal_values("Globex"), deal_form),
                                      (View.DESK_HELP, help_values("contracts", "redlines?"), help_form)):
        body = door.submit(callback, values, view_id=view_id)
        assert body["response_action"] == "errors" and list(body["errors"].values()) in ([CLOSED], [OUTSIDER]), body
    assert door.command("scorecard")["text"] == OUTSIDER
    _, url = door.click(Action.DESK_SCORECARD)
    assert [r["text"] for r in door.replies(url)] == [OUTSIDER]
    door.click(Action.DESK_DEAL)
    assert texts(app.fake.calls_to("views.update")[-1].args["view"]["blocks"]) == OUTSIDER
    _, url = door.click(Action.DESK_SCORECARD, user="UOWNER1")  # our own people are told why
    assert [r["text"] for r in door.replies(url)] == [UNLINKED]
    assert row_counts() == before
    # The channel now linked to another partner: a form opened for Acme is never filed under it.
    app.command(f"channel Hooli <#{SHARED}|acme-shared>", user="UOWNER3")
    app.settle()
    before = row_counts()
    body = door.submit(View.DESK_DEAL, deal_values("Globex"), view_id=deal_form)
    assert body["response_action"] == "errors" and list(body["errors"].values()) == [CLOSED], body
    assert row_counts() == before
    assert [m["text"] for m in posted(app.fake, SHARED)] == ["Acme partner desk", "Hooli partner desk"]  # nothing else
    assert leaks(door.seen()) == []


def test_a_channel_that_stops_being_shared_refuses_the_partner_and_still_serves_our_people(world):
    door, app, fake = world.door, world.app, world.app.fake
    deal_form = door.desk_form(Action.DESK_DEAL)
    fake.channels[SHARED].update(is_ext_shared=False, is_shared=False)  # the Slack Connect share ended
    before = row_counts()
    body = door.submit(View.DESK_DEAL, deal_values("Globex"), view_id=deal_form)
    assert body["response_action"] == "errors" and list(body["errors"].values()) == [OUTSIDER], body
    assert door.command("scorecard")["text"] == OUTSIDER
    assert door.command("help")["text"] == OUTSIDER
    _, url = door.click(Action.DESK_SCORECARD)
    assert [r["text"] for r in door.replies(url)] == [OUTSIDER]
    assert row_counts() == before
    # Our people there are still served, for the linked partner.
    card = app.command("status", user="UOWNER1", channel=SHARED)
    assert "Acme" in texts(card["blocks"]) and card.get("response_type", "ephemeral") == "ephemeral"
    _, url = door.click(Action.DESK_SCORECARD, user="UOWNER1")
    (shown,) = door.replies(url)
    assert texts(shown["blocks"]).startswith("Acme · scorecard")
    assert leaks(door.seen()) == []


def test_an_archived_partner_closes_its_desk_and_its_channel_hears_nothing_more(world):
    door, app, fake = world.door, world.app, world.app.fake
    view_id = door.desk_form(Action.DESK_HELP)
    assert door.submit(View.DESK_HELP, help_values("contracts", "Redlines?"), view_id=view_id) == {}
    deal_form = door.desk_form(Action.DESK_DEAL)
    with unit_of_work(read_only=True) as s:
        asked = s.scalar(select(HelpRequest.id).where(HelpRequest.partner_channel_id == SHARED))
    app.command("archive Acme", user="UOWNER1")
    app.settle()
    before, posts = row_counts(), len(posted(fake, SHARED))
    body = door.submit(View.DESK_DEAL, deal_values("Globex"), view_id=deal_form)
    assert body["response_action"] == "errors" and list(body["errors"].values()) in ([CLOSED], [OUTSIDER]), body
    assert door.command("scorecard")["text"] == OUTSIDER
    _, url = door.click(Action.DESK_SCORECARD)
    assert [r["text"] for r in door.replies(url)] == [OUTSIDER]
    assert row_counts() == before
    # Our people still finish the request; the archived partner's channel is told nothing more.
    app.action(Action.REQUEST_CLAIM, str(asked), user="ULEGAL1", channel="C0LEGAL")
    app.settle()
    with unit_of_work(read_only=True) as s:
        assert s.get(HelpRequest, asked).claimed_by == "ULEGAL1"
    assert len(posted(fake, SHARED)) == posts
    assert leaks(door.seen()) == []


def test_a_guest_in_the_partner_channel_is_refused_at_its_desk_too(world):
    door, fake = world.door, world.app.fake
    fake.add_user("UGUEST1", is_restricted=True)
    before = row_counts()
    assert door.command("scorecard", user="UGUEST1")["text"] == GUEST
    _, url = door.click(Action.DESK_SCORECARD, user="UGUEST1")
    assert [r["text"] for r in door.replies(url)] == [GUEST]
    door.click(Action.DESK_DEAL, user="UGUEST1")
    assert texts(fake.calls_to("views.update")[-1].args["view"]["blocks"]) == GUEST
    assert row_counts() == before


def test_with_partnerbot_users_set_the_partner_is_served_at_its_desk_alone(settings, fake_slack):
    """PARTNERBOT_USERS lists our people; a partner's people are never on it, yet its desk serves them."""
    ours = frozenset({"UOWNER1", "UOWNER2", "UOWNER3", "UADMIN1"})
    with serve(settings.model_copy(update={"users": ours}), fake_slack) as app:
        world = build_world(app)
        door = world.door
        assert texts(door.command("scorecard Nosuchco")["blocks"]).startswith("Acme · scorecard")
        assert door.command("status Acme")["text"] == ONLY
        _, url = door.click(Action.DESK_SCORECARD)
        assert texts(door.replies(url)[0]["blocks"]).startswith("Acme · scorecard")
        view_id = door.desk_form(Action.DESK_DEAL)
        assert door.submit(View.DESK_DEAL, deal_values("Globex"), view_id=view_id) == {}
        assert "Deal registration received" in text_of(posted(app.fake, SHARED)[-1])
        # Elsewhere, and on every internal surface, one line that names no partner.
        elsewhere = [door.command(line, channel=GENERAL) for line in ("status Acme", "status Nosuchco", "scorecard")]
        assert elsewhere[0] == elsewhere[1] == elsewhere[2] and elsewhere[0]["text"] in (OUTSIDER, NOT_LISTED), elsewhere
        _, url = door.click(Action.SHARE, "status Acme")
        assert [r["text"] for r in door.replies(url)] in ([OUTSIDER], [NOT_LISTED])
        assert leaks(door.seen()) == []


# --- 4. the canary, and 5. the audit trail ------------------------------------------------------------


def buttons_in(args: dict[str, Any]) -> dict[str, str]:
    return {e["action_id"]: e.get("value", "") for b in args.get("blocks") or [] if b.get("type") == "actions"
            for e in b["elements"]}


def test_the_canary_never_crosses_the_boundary_while_the_partner_gets_everything_it_should(world, settings):
    app, door, fake = world.app, world.door, world.app.fake
    command = app.command
    # Every internal field carries the canary.
    command(f"log Acme note {CANARY} interaction: margins are thin", user="UOWNER1")
    command(f"log Acme call {CANARY} call: they may churn next:tomorrow", user="UOWNER1")
    command(f"qbr Acme done {CANARY} QBR notes: renegotiate the discount", user="UOWNER1")
    command("qbr Acme in 2 weeks", user="UOWNER1")
    command(f"link Acme {CANARY}-crm-id", user="UOWNER1")
    command("kpi Acme revenue 12000", user="UOWNER1")
    command("target Acme revenue 30000", user="UOWNER1")
    rid = world.internal_request
    app.action(Action.REQUEST_CLAIM, str(rid), user="ULEGAL1", channel="C0LEGAL")
    app.submit_view({"type": "modal", "callback_id": View.REQUEST_NOTE, "private_metadata": str(rid)},
                    text_values(f"{CANARY} internal note on the internal request"), user="ULEGAL1")
    app.submit_view({"type": "modal", "callback_id": View.REQUEST_RESOLVE, "private_metadata": str(rid)},
                    text_values(f"{CANARY} internal resolution"), user="ULEGAL1")
    app.settle()

    # The partner's side: two deals (Globex clashes with Initech's), two requests.
    for customer in ("Globex", "Umbrella"):
        view_id = door.desk_form(Action.DESK_DEAL)
        assert door.submit(View.DESK_DEAL, deal_values(customer, notes="Champion is the CFO"), view_id=view_id) == {}
    for category, asked in (("contracts", "Can we get the MSA redlines back?"), ("technical", "How do we turn on SSO?"),
                            ("other", "Who do we call about the launch?")):  # this one stays open, with the owner
        view_id = door.desk_form(Action.DESK_HELP)
        assert door.submit(View.DESK_HELP, help_values(category, asked), view_id=view_id) == {}
    with unit_of_work(read_only=True) as s:
        deals = {d.customer: d.id for d in s.scalars(select(DealRegistration).where(DealRegistration.partner_id == world.acme))}
        asked_ids = {r.category: r.id for r in s.scalars(select(HelpRequest).where(HelpRequest.partner_channel_id == SHARED))}

    # Our side decides, a step at a time as people do: an admin sees the conflict and rejects
    # Globex with a reason, the owner approves Umbrella; legal claims, notes and resolves without
    # sending; product claims, resolves and sends its answer to the partner.
    def step(do, *args, **kwargs) -> None:
        do(*args, **kwargs)
        app.settle()

    # The conflicting Globex goes to the admins (a conflict is theirs to decide), Umbrella to the owner.
    reviews = {c: [m for m in posted(fake, who) if c in text_of(m) and buttons_in(m)][-1]
               for c, who in (("Globex", "UADMIN1"), ("Umbrella", "UOWNER1"))}
    assert "Initech" in text_of(reviews["Globex"])  # the conflict is known internally
    step(app.submit_view, {"type": "modal", "callback_id": View.DEAL_REJECT, "private_metadata": f"{deals['Globex']}|"},
         text_values("Outside the programme's territory"), user="UADMIN1")
    step(app.action, Action.DEAL_APPROVE, buttons_in(reviews["Umbrella"])[Action.DEAL_APPROVE], user="UOWNER1",
         channel="DUOWNER1")
    contracts, technical = asked_ids["contracts"], asked_ids["technical"]
    step(app.action, Action.REQUEST_CLAIM, str(contracts), user="ULEGAL1", channel="C0LEGAL")
    step(app.submit_view, {"type": "modal", "callback_id": View.REQUEST_NOTE, "private_metadata": str(contracts)},
         text_values(f"{CANARY} their counsel is slow"), user="ULEGAL1")
    step(app.submit_view, {"type": "modal", "callback_id": View.REQUEST_RESOLVE, "private_metadata": str(contracts)},
         text_values(f"{CANARY} sent by email, internal only"), user="ULEGAL1")
    step(app.action, Action.REQUEST_CLAIM, str(technical), user="UPROD1", channel="C0PRODUCT")
    step(app.submit_view, {"type": "modal", "callback_id": View.REQUEST_RESOLVE, "private_metadata": str(technical)},
         text_values("SSO is under Settings, Security", to_partner=True), user="UPROD1")

    # The stored health, last (as its upkeep writes it), with the canary in its reasons.
    with unit_of_work() as s:
        s.execute(Partner.__table__.update().where(Partner.id == world.acme).values(
            health_score=35, health_reasons=json.dumps([f"{CANARY} health: no reply in weeks"]))
            .execution_options(**{HEALTH_WRITE: True}))

    # The owner posts the scorecard, reads the internal brief and shares the scorecard from it.
    assert "Posted *Acme*" in texts(command("scorecard Acme", user="UOWNER1")["blocks"])
    brief = command("qbr Acme brief", user="UOWNER1")
    assert CANARY in texts(brief["blocks"])  # the brief is internal, and the canary is live
    app.action(Action.BRIEF_SHARE_SCORECARD, buttons_in(brief)[Action.BRIEF_SHARE_SCORECARD], user="UOWNER1")
    # Our people in the partner channel: their replies stay theirs; Share is refused there.
    assert CANARY in texts(door.command("status", user="UOWNER1")["blocks"])
    door.click(Action.SHARE, "status Acme", user="UOWNER1")
    # The partner looks at its scorecard both ways.
    _, url = door.click(Action.DESK_SCORECARD)
    clicked = door.replies(url)
    typed = door.command("scorecard")
    # The partner talks in its channel (counted, never answered), and the scheduled jobs run, a week on.
    app.event({"type": "message", "channel": SHARED, "channel_type": "channel", "user": EXTERNAL,
               "text": "thanks all", "ts": f"{datetime.now(timezone.utc).timestamp():.6f}"})
    app.settle()
    job_settings = settings.model_copy(update={"slack_api_url": fake.api_url})
    slack = JobSlack(web_client(job_settings), job_settings.zone)
    for job in specs(job_settings):
        if job.name not in ("crm-sync", "webhook-delivery", "kpi-digest"):  # not configured; the digest is internal
            run_job(job.name, settings=job_settings, slack=slack, now=datetime.now(timezone.utc) + timedelta(days=8))
    assert any("past its SLA" in text_of(m) for m in posted(fake, "UOWNER1"))  # the jobs did run, internally
    with unit_of_work(read_only=True) as s:
        assert s.scalar(select(func.sum(PartnerActivity.messages)).where(PartnerActivity.partner_id == world.acme)) == 1

    seen = door.seen()
    assert leaks(seen) == [], leaks(seen)
    # The canary is everywhere internal: it is seeded, so its absence above means something.
    internal = json.dumps([c.args for c in fake.calls if c.method == "chat.postMessage"
                           and c.args.get("channel") in ("UOWNER1", "UADMIN1", "C0LEGAL", "C0PRODUCT")])
    assert CANARY in internal and "Initech" in internal

    # And the partner did receive what it should.
    shared = [text_of(m) for m in posted(fake, SHARED)]
    assert "partner desk" in shared[0]
    assert sum("Deal registration received" in t for t in shared) == 2
    assert sum("Request received" in t for t in shared) == 3
    assert any("Rejected" in t or "Not approved" in t for t in shared)
    assert any("Outside the programme" in t for t in shared)
    assert any("Approved" in t and "Umbrella" in t for t in shared)
    # Each request's thread: in progress, then resolved (the answer only where it was sent); none for the open one.
    receipts = [m["ts"] for m in fake.messages(SHARED) if "request received" in m["text"]]
    threads = [[text_of(m) for m in posted(fake, SHARED) if m.get("thread_ts") == ts] for ts in receipts]
    assert [["In progress" in t for t in thread] for thread in threads] == [[True, False], [True, False], []], threads
    assert ["Resolved" in thread[-1] and "SSO is under Settings" in thread[-1] for thread in threads[:2]] == [False, True]
    assert "Resolved" in threads[0][-1]
    cards = [t for t in shared if "Acme · scorecard" in t]
    assert len(cards) == 2  # /partner scorecard, and Share scorecard from the brief
    for card in [*cards, text_of(clicked[0]), text_of(typed)]:
        assert "Globex" in card and "Umbrella" in card and "Contracts" in card, card
    assert not any(r.args.get("response_type") == "in_channel" for r in fake.responses() if r.path in door.shared_urls)

    # 5. Every change the partner made is on record with its person and organisation.
    with unit_of_work(read_only=True) as s:
        made = [(c.kind, c.user_id, c.team_id) for c in s.scalars(select(Change).where(
            (Change.user_id == EXTERNAL) | (Change.team_id == OTHER_ORG)).order_by(Change.id))]
    assert made == [("deal.register", EXTERNAL, OTHER_ORG)] * 2 + [("request.create", EXTERNAL, OTHER_ORG)] * 3


# --- found while proving the boundary -------------------------------------------------------------


def test_a_partner_channel_with_a_channel_id_of_slacks_usual_length(world):
    """Slack's channel IDs are usually 11 characters (C05ABCDEF12): everything keyed by the
    channel (the desk's ledger row among them) fits its column on PostgreSQL too."""
    channel = "C05GLOBEX12"
    world.app.fake.add_channel(channel, name="globex-shared", is_ext_shared=True)
    world.app.command("add Globex type:channel", user="UOWNER1")
    reply = world.app.command(f"channel Globex <#{channel}|globex-shared>", user="UOWNER1")
    world.app.settle()
    assert "partner-safe mode" in texts(reply["blocks"]), reply
    assert "partner desk" in text_of(posted(world.app.fake, channel)[0])


def test_someone_of_another_organisation_made_owner_is_never_sent_our_dms(world):
    """An owner is whoever `/partner owner` names, even a person of the partner's organisation:
    the owner's DMs (a review naming the conflicting partner) must still never reach them."""
    door, app, fake = world.door, world.app, world.app.fake
    app.command(f"owner Acme <@{EXTERNAL}>", user="UOWNER1")
    view_id = door.desk_form(Action.DESK_DEAL)
    assert door.submit(View.DESK_DEAL, deal_values("Globex"), view_id=view_id) == {}
    assert fake.calls_to("chat.postMessage") and not [c for c in fake.calls_to("chat.postMessage")
                                                      if c.args.get("channel") in (EXTERNAL, "D" + EXTERNAL)]
    review = [m for m in posted(fake, "UADMIN1") if "Globex" in text_of(m)]
    assert review and "Initech" in text_of(review[-1])  # the admins review it instead
    assert leaks(door.seen()) == []


def test_a_partner_request_for_an_owner_we_cannot_reach_goes_to_the_admins(world):
    door, app, fake = world.door, world.app, world.app.fake
    app.command(f"owner Acme <@{EXTERNAL}>", user="UOWNER1")
    view_id = door.desk_form(Action.DESK_HELP)
    assert door.submit(View.DESK_HELP, help_values("other", "Who do we call about the launch?"), view_id=view_id) == {}
    assert "request received" in posted(fake, SHARED)[-1]["text"]
    assert any("Who do we call" in text_of(m) for m in posted(fake, "UADMIN1"))
    assert leaks(door.seen()) == []


def test_an_internal_channel_that_becomes_shared_gets_nothing_internal_posted(world):
    """A partner linked to an internal channel, which is later shared with the partner's
    organisation: from then on nothing internal may be posted there (Share included)."""
    door, app, fake = world.door, world.app, world.app.fake
    channel = "C0ACMEI"
    fake.add_channel(channel, name="acme-internal")
    app.command("channel Acme none", user="UOWNER1")
    app.command(f"channel Acme <#{channel}|acme-internal>", user="UOWNER1")
    _, url = door.click(Action.SHARE, "status Acme", user="UOWNER1", channel=channel)
    assert door.replies(url)[0]["response_type"] == "in_channel"  # internal: shared, as it should be
    fake.channels[channel].update(is_ext_shared=True, is_shared=True)  # Slack Connect: the partner joins
    assert texts(door.command("scorecard", channel=channel)["blocks"]).startswith("Acme · scorecard")  # they are in
    _, url = door.click(Action.SHARE, "status Acme", user="UOWNER1", channel=channel)
    (said,) = door.replies(url)
    assert CANARY not in json.dumps(said)
    assert said.get("response_type") == "ephemeral" and "shared with another organisation" in said["text"], said


def test_what_a_partner_types_is_shown_as_typed_never_as_a_mention_or_link(world):
    door, app, fake = world.door, world.app, world.app.fake
    view_id = door.desk_form(Action.DESK_DEAL)
    typed = deal_values("<!channel> Globex <@UADMIN1>", notes="<!here> see <https://evil.example|this>")
    assert door.submit(View.DESK_DEAL, typed, view_id=view_id) == {}
    view_id = door.desk_form(Action.DESK_HELP)
    assert door.submit(View.DESK_HELP, help_values("other", "<!channel> call <@UADMIN1>"), view_id=view_id) == {}
    with unit_of_work(read_only=True) as s:
        deal = s.scalar(select(DealRegistration.id).where(DealRegistration.registered_by == EXTERNAL))
    app.action(Action.DEAL_APPROVE, str(deal), user="UOWNER1", channel="DUOWNER1")
    app.settle()
    ours = [m for channel in (SHARED, "UOWNER1") for m in posted(fake, channel)]
    assert len(ours) >= 5  # the receipts, the outcome, the owner's review and request
    for message in ours:
        for raw in ("<!channel>", "<!here>", "<@UADMIN1>", "<https://evil.example"):
            assert raw not in json.dumps([message.get("text"), message.get("blocks")]), (raw, message)
