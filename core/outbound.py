"""Outbound HTTP to CRMs and webhook receivers: pooled httpx clients, with
timeouts, no redirects, capped bodies, and an SSRF guard (SPEC §10).

A URL must be https and its host must not be or resolve to a loopback,
private, link-local (cloud metadata), shared (100.64/10), unspecified,
reserved or multicast address — nor to an IPv6 address that carries such an
IPv4 address (mapped, NAT64, 6to4, Teredo, ISATAP) — unless
PARTNERBOT_ALLOW_PRIVATE_URLS is true (development and tests). The check runs
when settings are validated, and on every connection: the host is resolved
once, every address is checked, and the socket is opened to a checked address
(TLS still verifies the certificate for, and sends SNI and Host of, the host
name). A DNS answer that changes between the check and the connect (rebinding)
therefore cannot make us send anything to an address nobody checked.
Environment proxies are not used: through a proxy we could not know where a
request lands.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlparse

import httpcore
import httpx

from core.settings import Settings, SettingsError

log = logging.getLogger(__name__)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_BODY = 8 * 1024 * 1024
SHARED = ipaddress.ip_network("100.64.0.0/10")
# IPv6 prefixes that only carry an IPv4 address in their last 32 bits: the
# NAT64 well-known prefix (RFC 6052) and IPv4-translated addresses (RFC 2765).
TRANSLATED = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated; also holds :: and ::1
_clients: dict[bool, httpx.Client] = {}
_lock = threading.Lock()


class Refused(Exception):
    """An outbound request that the SSRF guard would not make."""


def _forbidden_v4(ip: ipaddress.IPv4Address) -> bool:
    return (not ip.is_global or ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
            or ip.is_unspecified or ip.is_reserved or ip in SHARED)


def _forbidden_v6(ip: ipaddress.IPv6Address) -> bool:
    return (not ip.is_global or ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_site_local
            or ip.is_multicast or ip.is_unspecified or ip.is_reserved)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (6to4, Teredo server and client, ISATAP)."""
    found = []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if (int(ip) >> 32) & 0xFDFFFFFF == 0x00005EFE:  # ISATAP interface id ::0:5efe:a.b.c.d (u bit either way)
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _forbidden_v4(ip)
    if ip.ipv4_mapped is not None:
        return _forbidden_v4(ip.ipv4_mapped)
    if any(ip in net for net in TRANSLATED):
        return _forbidden_v4(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip in IPV4_COMPATIBLE:
        return True
    return _forbidden_v6(ip) or any(_forbidden_v4(v4) for v4 in embedded_ipv4(ip))


def _addresses(host: str) -> Iterable[str]:
    try:
        return {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return set()


def _local_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in ("localhost", "localhost.localdomain") or host.endswith(".localhost")


def check_url(url: str, *, allow_private: bool, resolve: bool = True) -> str | None:
    """Why this URL may not be used, or None when it may.

    With resolve=False only what the URL itself says is checked; the addresses
    are then checked by the connection itself (request() does that).
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return "is not an http(s) URL"
    if allow_private:
        return None
    if parsed.scheme != "https":
        return "must be https"
    host = parsed.hostname
    if _local_name(host):
        return "points at this machine (localhost)"
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if not resolve:
            return None
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


class PinnedBackend(httpcore.SyncBackend):
    """Resolves the host once, checks every address, and connects to a checked one.

    httpcore starts TLS on the returned stream with the URL's host name, so
    certificate verification and SNI stay on the name, not the IP.
    """

    def __init__(self, *, allow_private: bool):
        self.allow_private = allow_private

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        if not self.allow_private:
            bad = [a for a in addresses if forbidden_address(a)]
            if bad:  # one bad answer spoils the set: the resolver is not to be trusted
                log.warning("refused to connect to %s: it resolves to a private address (%s)", host, bad[0])
                raise Refused(f"{host} resolves to a private address ({bad[0]})")
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                           socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over a PinnedBackend (and never through an environment proxy)."""

    def __init__(self, *, allow_private: bool, limits: httpx.Limits):  # noqa: super().__init__ only builds _pool
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(allow_private=allow_private),
        )


def client(allow_private: bool = False) -> httpx.Client:
    with _lock:
        if allow_private not in _clients:
            limits = httpx.Limits(max_connections=20, max_keepalive_connections=10)
            _clients[allow_private] = httpx.Client(
                timeout=TIMEOUT, follow_redirects=False, trust_env=False, headers={"User-Agent": "partnerbot"},
                transport=PinnedTransport(allow_private=allow_private, limits=limits),
            )
        return _clients[allow_private]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes

    def json(self):
        import json

        return json.loads(self.body)


def request(method: str, url: str, *, allow_private: bool, max_body: int = MAX_BODY, **kwargs) -> Answer:
    """One request through a shared client; refuses forbidden peers and oversized bodies.

    Raises Refused, or httpx.TransportError / httpx.TimeoutException for network trouble.
    """
    problem = check_url(url, allow_private=allow_private, resolve=False)
    if problem:
        raise Refused(f"{urlparse(url).hostname}: {problem}")
    with client(allow_private).stream(method, url, **kwargs) as response:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_body:
                raise Refused(f"response from {urlparse(url).hostname} is larger than {max_body:,} bytes")
        return Answer(response.status_code, response.headers, bytes(body))
