"""The Slack app manifest: `manifest.yml` (Socket Mode) and its HTTP-mode variant."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"
EVENTS_PATH = "/slack/events"


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def http_manifest(base_url: str, *, path: Path = MANIFEST) -> dict[str, Any]:
    """The committed manifest with Socket Mode off and every request URL at base_url/slack/events."""
    parsed = urlparse(base_url.strip())
    if parsed.scheme != "https" or not parsed.netloc:
        raise ValueError(f"{base_url!r} is not a public https base URL (Slack only calls https), e.g. https://partnerbot.example.com")
    url = base_url.strip().rstrip("/") + EVENTS_PATH
    manifest = copy.deepcopy(load_manifest(path))
    for command in manifest["features"]["slash_commands"]:
        command["url"] = url
    settings = manifest["settings"]
    settings["socket_mode_enabled"] = False
    settings["interactivity"]["request_url"] = url
    settings["interactivity"]["message_menu_options_url"] = url
    settings["event_subscriptions"]["request_url"] = url
    return manifest


def dump_manifest(manifest: dict[str, Any]) -> str:
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
