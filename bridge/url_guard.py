"""Which URLs the Bridge may fetch on a user's behalf (the bootstrap ping): no request forgery into private space.

Every hop is checked (the first URL and each redirect): the scheme is http(s), and every address the host name
resolves to is public. Loopback, private, link-local (cloud metadata lives at 169.254.169.254), carrier-grade NAT,
multicast, reserved and unspecified addresses are refused, unless the host is on an explicit dev allow-list.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class ForbiddenUrl(ValueError):
    """A URL the Bridge will not fetch; the message says why."""


def is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT)
    )


def split_target(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; ForbiddenUrl for other schemes or no host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ForbiddenUrl(f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise ForbiddenUrl("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ForbiddenUrl("the URL's port is invalid") from None
    return parts.hostname.lower(), port


async def check_url(url: str, allow_hosts: frozenset[str] = frozenset()) -> None:
    """Raise ForbiddenUrl unless every address of the URL's host is public (or the host is allow-listed)."""
    host, port = split_target(url)
    if host in allow_hosts:
        return
    try:
        literal: IpAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IpAddress] = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise ForbiddenUrl(f"cannot resolve {host}: {exc.strerror or exc}") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not is_public(address):
            raise ForbiddenUrl(f"{host} resolves to {address}, which is not a public address")
