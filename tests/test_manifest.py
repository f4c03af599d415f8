"""manifest.yml creates the app as-is: Slack's own JSON Schema, and what §9 fixes."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from bot.manifest import dump_manifest, http_manifest, load_manifest

import os

# Slack's schema lives beside the project (../shared/slack-specs), not in it; a
# clone elsewhere on this machine finds it at /work/shared or via PARTNERBOT_SLACK_SPECS.
_CANDIDATES = [Path(os.environ["PARTNERBOT_SLACK_SPECS"])] if os.environ.get("PARTNERBOT_SLACK_SPECS") else []
_CANDIDATES += [Path(__file__).resolve().parents[2] / "shared" / "slack-specs", Path("/work/shared/slack-specs")]
SPECS = next((c for c in _CANDIDATES if c.exists()), _CANDIDATES[0]) / "manifest" / "manifest.schema.1.0.0.json"
SCOPES = ["commands", "chat:write", "chat:write.public", "im:write", "users:read", "files:write",
          "channels:join", "channels:read", "groups:read"]
# Partner channels (SPEC §9): counting the partner's messages, pinning its desk.
PARTNER_SCOPES = ["channels:history", "groups:history", "pins:write"]
EVENTS = ["app_home_opened", "message.channels", "message.groups"]


@pytest.fixture(scope="module")
def validator():
    if not SPECS.exists():
        pytest.skip(f"Slack's manifest schema is not beside the project ({SPECS})")
    return Draft7Validator(json.loads(SPECS.read_text()))


def errors(validator, manifest):
    return [e.message for e in validator.iter_errors(manifest)]


def test_socket_manifest_validates_against_slack_schema(validator):
    assert errors(validator, load_manifest()) == []


def test_http_manifest_validates_and_points_at_events(validator):
    manifest = http_manifest("https://partners.example.com/")
    assert errors(validator, manifest) == []
    url = "https://partners.example.com/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["features"]["slash_commands"][0]["url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    # The same scopes and events as Socket Mode: partner activity works in either mode.
    assert manifest["oauth_config"]["scopes"]["bot"] == SCOPES + PARTNER_SCOPES
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == EVENTS


def test_schema_rejects_a_too_long_shortcut_name(validator):
    manifest = load_manifest()
    manifest["features"]["shortcuts"][0]["name"] = "Log this message to a partner record"
    assert errors(validator, manifest)


def test_manifest_has_what_the_bot_needs():
    manifest = load_manifest()
    assert manifest["oauth_config"]["scopes"]["bot"] == SCOPES + PARTNER_SCOPES
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/partner" and command["should_escape"] is True
    assert {s["callback_id"]: s["name"] for s in manifest["features"]["shortcuts"]} == {
        "log_to_partner": "Log to partner", "ask_a_team": "Ask a team"}
    assert all(len(s["name"]) <= 24 for s in manifest["features"]["shortcuts"])
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"]
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == EVENTS
    assert manifest["settings"]["socket_mode_enabled"] is True


def test_scopes_are_the_ones_slacks_web_api_names_for_what_partner_channels_use():
    """Slack's own Web API description (beside the schema) says which scope reads a
    channel's messages, pins one and looks people and channels up: the manifest asks for
    those, for public and private channels alike."""
    spec_file = SPECS.parents[1] / "slack_web_openapi_v2_without_examples.json"
    if not spec_file.exists():
        pytest.skip(f"Slack's Web API description is not beside the project ({spec_file})")
    paths = json.loads(spec_file.read_text())["paths"]

    def scopes(method: str) -> set[str]:
        return {scope for operation in paths[f"/{method}"].values() for rule in operation["security"] for scope in rule["slackAuth"]}

    asked = set(load_manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes("conversations.history") & asked == {"channels:history", "groups:history"}
    assert scopes("pins.add") <= asked
    assert scopes("users.info") <= asked
    assert scopes("conversations.info") & asked == {"channels:read", "groups:read"}


def test_http_base_url_must_be_https():
    with pytest.raises(ValueError, match="https"):
        http_manifest("http://localhost:3000")


def test_cli_prints_http_manifest(capsys):
    from bot.cli import main

    assert main(["manifest", "--http", "https://bot.example.com"]) == 0
    printed = capsys.readouterr().out
    assert "https://bot.example.com/slack/events" in printed and printed == dump_manifest(http_manifest("https://bot.example.com"))
