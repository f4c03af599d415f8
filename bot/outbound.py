"""Outbound HTTP to CRMs and webhook receivers: one pooled httpx client per
process, with timeouts, no redirects, capped bodies, and an SSRF guard (SPEC §10).

A URL must be https and its host must not be or resolve to a loopback,
private, link-local (cloud metadata), shared (100.64/10), unspecified or
multicast address — unless PARTNERBOT_ALLOW_PRIVATE_URLS is true (development
and tests). The check runs when settings are validated and again on every
request against the address actually connected to (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx

from bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_BODY = 8 * 1024 * 1024
SHARED = ipaddress.ip_network("100.64.0.0/10")
_client: httpx.Client | None = None
_lock = threading.Lock()


class Refused(Exception):
    """An outbound request that the SSRF guard would not make or keep."""


def forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_unspecified
        or ip.is_reserved or (isinstance(ip, ipaddress.IPv4Address) and ip in SHARED)
    )


def _addresses(host: str) -> Iterable[str]:
    try:
        return {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return set()


def check_url(url: str, *, allow_private: bool) -> str | None:
    """Why this URL may not be used, or None when it may."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return "is not an http(s) URL"
    if allow_private:
        return None
    if parsed.scheme != "https":
        return "must be https"
    host = parsed.hostname
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return "points at this machine (localhost)"
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = list(_addresses(host))
        if not addresses:
            return f"host {host} does not resolve"
    if any(forbidden_address(a) for a in addresses):
        return f"host {host} is a private, loopback or link-local address"
    return None


def validate(settings: Settings, *, crm: bool = True, webhooks: bool = True) -> None:
    """Start-up check for the commands that make outbound calls (exit 2 on failure)."""
    if crm and settings.crm and settings.crm_url:
        problem = check_url(settings.crm_url, allow_private=settings.allow_private_urls)
        if problem:
            raise SettingsError(f"setting PARTNERBOT_CRM_URL: {problem}")
    if webhooks:
        for i, hook in enumerate(settings.webhooks):
            problem = check_url(hook.url, allow_private=settings.allow_private_urls)
            if problem:
                raise SettingsError(f"setting PARTNERBOT_WEBHOOKS[{i}].url: {problem}")


def client() -> httpx.Client:
    global _client
    with _lock:
        if _client is None:
            _client = httpx.Client(timeout=TIMEOUT, follow_redirects=False,
                                   limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                                   headers={"User-Agent": "partnerbot"})
        return _client


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes

    def json(self):
        import json

        return json.loads(self.body)


def request(method: str, url: str, *, allow_private: bool, max_body: int = MAX_BODY, **kwargs) -> Answer:
    """One request through the shared client; refuses forbidden peers and oversized bodies.

    Raises Refused, or httpx.TransportError / httpx.TimeoutException for network trouble.
    """
    problem = check_url(url, allow_private=allow_private)
    if problem:
        raise Refused(f"{urlparse(url).hostname}: {problem}")
    with client().stream(method, url, **kwargs) as response:
        if not allow_private:
            stream = response.extensions.get("network_stream")
            peer = stream.get_extra_info("server_addr") if stream is not None else None
            if peer and forbidden_address(str(peer[0])):
                log.warning("refused a response from %s: it resolved to a private address", urlparse(url).hostname)
                raise Refused(f"{urlparse(url).hostname} connected to a private address")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_body:
                raise Refused(f"response from {urlparse(url).hostname} is larger than {max_body:,} bytes")
        return Answer(response.status_code, response.headers, bytes(body))
