"""Which URLs the Bridge may fetch on a user's behalf (the bootstrap ping): no request forgery into private space.

Every hop is checked (the first URL and each redirect): the scheme is http(s), and every address the host name
resolves to is public. Loopback, private, link-local (cloud metadata lives at 169.254.169.254), carrier-grade NAT,
multicast, reserved and unspecified addresses are refused, and so are IPv6 addresses that wrap an IPv4 address
which is not public (IPv4-mapped, 6to4, NAT64, Teredo) and site-local ones, unless the host is on an explicit dev
allow-list.

Two parts, because a name must be resolved exactly once (a name that answers a public address to the check and
127.0.0.1 to the connect would otherwise get through: DNS rebinding):
- `check_url`, pure and synchronous: scheme, host, port, and IP literals (aiohttp never resolves those).
- `GuardedResolver`, the aiohttp resolver of the fetch session: it resolves a name once and refuses the whole
  answer when any address is not public, so the addresses checked are the addresses connected to.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import aiohttp
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: the last 32 bits are the IPv4 address
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: translators of the operator's own network
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, but still routed inside some sites


class ForbiddenUrl(ValueError):
    """A URL the Bridge will not fetch; the message says why."""


def why_not_public(address: IpAddress) -> str | None:
    """Why `address` must not be fetched from (a phrase: "not a public address", "a 6to4 address wrapping ..."), or
    None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # the wrapping forms first, so that the reason names the IPv4 address the packets would really reach
        if address.ipv4_mapped is not None:
            return _wrapping("an IPv4-mapped", address.ipv4_mapped)
        if address.sixtofour is not None:
            return _wrapping("a 6to4", address.sixtofour)
        if address in _NAT64:
            return _wrapping("a NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address in _NAT64_LOCAL:
            return "a local-use NAT64 address (64:ff9b:1::/48), which leads into the operator's own network"
        if address.teredo is not None:
            for role, inner in zip(("server", "client"), address.teredo, strict=True):
                if why_not_public(inner) is not None:
                    return f"a Teredo address whose {role} {inner} is not a public address"
            # both ends public: still subject to the general checks below (Python counts 2001::/23 as private)
        if address in _SITE_LOCAL:
            return "a site-local address (fec0::/10), not a public address"
    if (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT)
    ):
        return "not a public address"
    return None


def _wrapping(form: str, inner: ipaddress.IPv4Address) -> str | None:
    # a wrapping address reaches its IPv4 address: its verdict is that address's (8.8.8.8 behind 6to4 is fine)
    if why_not_public(inner) is None:
        return None
    return f"{form} address wrapping {inner}, not a public address"


def is_public(address: IpAddress) -> bool:
    return why_not_public(address) is None


def split_target(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; ForbiddenUrl for other schemes, no host, or a host no resolver could take."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # "http://[::1", "http://[zz]/"
        raise ForbiddenUrl("the URL is not well formed") from None
    if parts.scheme not in ("http", "https"):
        raise ForbiddenUrl(f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}")
    if not host:
        raise ForbiddenUrl("the URL has no host")
    if not host.isprintable() or any(c.isspace() for c in host):
        raise ForbiddenUrl("the URL's host has control characters or spaces")
    if ":" not in host:  # a name (or IPv4): one IDNA can encode, or getaddrinfo fails in its own way
        try:
            host.encode("idna")
        except UnicodeError:
            raise ForbiddenUrl("the URL's host is not a valid domain name") from None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        # the host as aiohttp (yarl) will connect to it, not as urllib reads it: yarl turns "127。0。0。1" (ideographic
        # full stops) into the literal 127.0.0.1, which aiohttp connects to without asking any resolver
        connect_host = yarl.URL(url).raw_host
    except (ValueError, UnicodeError):
        raise ForbiddenUrl("the URL's host or port is invalid") from None
    if not connect_host:
        raise ForbiddenUrl("the URL has no host")
    return connect_host.lower(), port


def check_url(url: str, allow_hosts: frozenset[str] = frozenset()) -> tuple[str, int]:
    """The URL's (host, port), after the checks that need no DNS: scheme, host, port, and an IP literal host must be
    public (aiohttp connects to literals without asking the resolver). ForbiddenUrl says why not. A host name is
    checked when it is resolved, by GuardedResolver."""
    host, port = split_target(url)
    if host in allow_hosts:
        return host, port
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None:
        # what aiohttp takes for a literal skips the resolver: it must be one we can judge (not 127.1, 2130706433)
        if ":" in host or host.replace(".", "").isdigit():
            raise ForbiddenUrl(f"{host} is not a canonical IP address")
        return host, port
    reason = why_not_public(literal)
    if reason is not None:
        raise ForbiddenUrl(f"{literal} is {reason}")
    return host, port


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that answers only public addresses: it asks `base` once and raises ForbiddenUrl when any
    address of the answer is not public (the whole answer: a mix is a rebinding attempt or a misconfiguration), unless
    the host is allow-listed. Use it with `TCPConnector(resolver=..., use_dns_cache=False)`: then every connection,
    on every hop, goes to an address this resolver checked. ForbiddenUrl is a ValueError, not an OSError, so aiohttp
    lets it through as it is instead of wrapping it as a DNS failure."""

    def __init__(self, base: AbstractResolver | None = None, allow_hosts: frozenset[str] = frozenset()) -> None:
        self._base = base
        self._owns_base = base is None  # made on first use: ThreadedResolver needs the running loop
        self.allow_hosts = allow_hosts

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._base is None:
            self._base = aiohttp.ThreadedResolver()
        answers = await self._base.resolve(host, port, family)
        if host.lower() in self.allow_hosts:
            return answers
        if not answers:  # an OSError: aiohttp reports it as the DNS failure it is (it has nothing to connect to)
            raise OSError(f"{host} has no address")
        for answer in answers:
            try:
                address = ipaddress.ip_address(answer["host"])
            except ValueError:
                raise ForbiddenUrl(f"{host} resolves to {answer['host']!r}, not an IP address") from None
            reason = why_not_public(address)
            if reason is not None:
                raise ForbiddenUrl(f"{host} resolves to {address}, {reason}")
        return answers

    async def check(self, url: str) -> None:
        """`check_url`, then one resolution of a host name: ForbiddenUrl unless every address is public. For URLs
        someone else connects to (libtorrent's trackers): it resolves the name again itself, a gap this cannot close."""
        host, port = check_url(url, self.allow_hosts)
        if host in self.allow_hosts or _is_literal(host):
            return
        await self.resolve(host, port, socket.AF_UNSPEC)

    async def close(self) -> None:
        if self._owns_base and self._base is not None:
            await self._base.close()


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
