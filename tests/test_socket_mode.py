"""Socket Mode, what `partnerbot run` starts when tokens are set: the app's Socket
Mode handler (slack_bolt's built-in one, as bot/cli.py uses it) connects to a
fake Socket Mode websocket, acks a slash command over the socket and answers it
at the response_url."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy import select

from storage.db import unit_of_work
from storage.models import Partner
from tests.conftest import texts
from tests.fake_socket_mode import FakeSocketMode


@pytest.fixture
def socket_mode(settings, fake_slack) -> Iterator[FakeSocketMode]:
    """The app connected in Socket Mode through apps.connections.open, as `partnerbot run` connects."""
    from bot.app import build_app

    fake_slack.reset()
    with FakeSocketMode() as server:
        fake_slack.socket_mode_url = server.url
        app = build_app(settings.model_copy(update={"slack_api_url": fake_slack.api_url}))
        handler = SocketModeHandler(app, app_token=fake_slack.app_token, web_client=app.client)
        handler.connect()
        try:
            server.wait_connected()
            yield server
        finally:
            # Slack hangs up first: the client's read ends at once (closing from our
            # side would wait out its 3-second receive timeout), and it is not to reconnect.
            handler.client.auto_reconnect_enabled = False
            server.hang_up()
            handler.close()
            app.listener_runner.listener_executor.shutdown(wait=False)


def slash_envelope(envelope_id: str, text: str, response_url: str) -> dict:
    return {
        "envelope_id": envelope_id, "type": "slash_commands", "accepts_response_payload": True,
        "payload": {"token": "legacy-verification-token", "team_id": "T0TEAM", "team_domain": "acme-partners",
                    "channel_id": "C0GENERAL", "channel_name": "general", "user_id": "UOWNER1", "user_name": "uowner1",
                    "command": "/partner", "text": text, "api_app_id": "A0PARTNER", "is_enterprise_install": "false",
                    "response_url": response_url, "trigger_id": "1234.5678.abcdef"},
    }


def test_slash_command_is_acked_over_the_socket_and_answered_at_the_response_url(socket_mode, fake_slack):
    (opened,) = fake_slack.calls_to("apps.connections.open")
    assert opened.headers["authorization"] == f"Bearer {fake_slack.app_token}"  # the app-level token, not the bot's

    response_url = fake_slack.new_response_url()
    socket_mode.send(slash_envelope("env-add-1", 'add "Acme Corp" type:channel', response_url))

    ack = socket_mode.wait_for(lambda m: m.get("envelope_id") == "env-add-1")
    assert ack.get("payload") in (None, {}, "")  # an empty ack: the answer goes to the response_url
    (reply,) = fake_slack.wait_for_responses(1, timeout=10)
    assert reply.path == "/" + response_url.split("/", 3)[3]
    assert "Added *Acme Corp*" in texts(reply.args["blocks"])
    with unit_of_work() as s:
        assert s.scalars(select(Partner.name)).all() == ["Acme Corp"]


def test_the_partner_desk_serves_a_partners_person_over_the_socket_as_over_http(socket_mode, fake_slack):
    """Socket Mode goes through the same door: a person of another organisation clicking
    Our scorecard in its partner channel gets its own scorecard; elsewhere, nothing."""
    fake_slack.add_channel("C0ACMEX", name="acme-shared", is_ext_shared=True)
    fake_slack.add_user("UEXT1", team_id="T0OTHER")
    for n, line in enumerate(['add "Acme Corp" type:channel', "channel acme <#C0ACMEX|acme-shared>"], start=1):
        socket_mode.send(slash_envelope(f"env-set-{n}", line, fake_slack.new_response_url()))
        fake_slack.wait_for_responses(n, timeout=10)  # each answered (committed) before the next is typed
    assert "partner-safe mode" in texts(fake_slack.responses()[-1].args["blocks"])

    def click(envelope_id: str, channel: str) -> dict:
        response_url = fake_slack.new_response_url()
        socket_mode.send({"envelope_id": envelope_id, "type": "interactive", "accepts_response_payload": False, "payload": {
            "type": "block_actions", "team": {"id": "T0TEAM", "domain": "acme-partners"},
            "user": {"id": "UEXT1", "username": "pat", "team_id": "T0OTHER"}, "api_app_id": "A0PARTNER",
            "container": {"type": "message", "message_ts": "1.2", "channel_id": channel}, "trigger_id": "1.2.3",
            "channel": {"id": channel, "name": "x"}, "response_url": response_url,
            "actions": [{"type": "button", "action_id": "desk_scorecard", "block_id": "partner_desk", "value": "",
                         "action_ts": "1.3", "text": {"type": "plain_text", "text": "Our scorecard"}}]}})
        socket_mode.wait_for(lambda m: m.get("envelope_id") == envelope_id)
        path = "/" + response_url.split("/", 3)[3]
        for _ in range(500):
            answered = [c for c in fake_slack.responses() if c.path == path]
            if answered:
                return answered[0].args
            time.sleep(0.02)
        raise AssertionError("no answer at the response_url")

    assert "Acme Corp · scorecard" in texts(click("env-click-1", "C0ACMEX")["blocks"])
    assert "only available to members" in click("env-click-2", "C0GENERAL")["text"]
