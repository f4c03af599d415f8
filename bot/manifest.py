"""The Slack app manifest: `manifest.yml` (Socket Mode) and its HTTP-mode variant."""

from __future__ import annotations

import copy
import ipaddress
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

# Package data, so an installed partnerbot has it too: bot/manifest.yml is a
# symlink to the top-level manifest.yml (the file people paste into Slack),
# which the wheel carries as a regular file.
MANIFEST = resources.files("bot") / "manifest.yml"
EVENTS_PATH = "/slack/events"


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def events_url(url: str) -> str:
    """The events URL for `--http`: a public https base URL, or that URL with
    /slack/events already on it (a trailing slash is fine). Anything else is refused."""
    example = "e.g. https://partnerbot.example.com or https://partnerbot.example.com/slack/events"
    text = url.strip()
    if not text:
        raise ValueError(f"--http needs the app's public https URL, {example}")
    parsed = urlparse(text)
    if parsed.scheme != "https" or not parsed.hostname:
        raise ValueError(f"--http {url!r} is not a public https URL (Slack only calls https), {example}")
    if parsed.username or parsed.password or parsed.query or parsed.fragment or parsed.params or any(c.isspace() for c in text):
        raise ValueError(f"--http {url!r}: give only the scheme, host and optional port (no user, query or #fragment), {example}")
    try:
        parsed.port
    except ValueError:
        raise ValueError(f"--http {url!r} has a bad port, {example}") from None
    if not _public_host(parsed.hostname):
        raise ValueError(f"--http {url!r} is not a public https URL: Slack cannot reach localhost or a private, "
                         f"loopback or link-local address, {example}")
    path = parsed.path.rstrip("/")
    if path not in ("", EVENTS_PATH):
        raise ValueError(f"--http {url!r}: partnerbot answers at {EVENTS_PATH} only; give the base URL or that full URL, {example}")
    return f"https://{parsed.netloc}{EVENTS_PATH}"


def _public_host(host: str) -> bool:
    """False for localhost and private/loopback/link-local/reserved IP literals: Slack's
    servers could never call them. A host name is taken at its word (no DNS look-up)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return address.is_global


def http_manifest(base_url: str, *, path: Path = MANIFEST) -> dict[str, Any]:
    """The committed manifest with Socket Mode off and every request URL at the events URL."""
    url = events_url(base_url)
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
