"""The client's address behind a reverse proxy: what the per-address rate limits count.

Behind Caddy every request comes from 127.0.0.1, so a limit per address would limit everyone together. The proxy
appends the address it saw to `X-Forwarded-For`; only proxies the operator names (`--trusted-proxy`) are believed,
and the client is the rightmost address that is not one of them (a client may send any X-Forwarded-For it likes:
only what trusted proxies appended counts).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware


def client_address(remote: str | None, forwarded_for: str | None, trusted: frozenset[str]) -> str:
    """The address a request came from: `remote`, or, when `remote` is a trusted proxy, the rightmost address of
    `forwarded_for` that is not (an unreadable entry ends the walk: what is left of it is not believed)."""
    address = remote or ""
    if address not in trusted or not forwarded_for:
        return address
    for entry in reversed(forwarded_for.split(",")):
        candidate = entry.strip()
        try:
            candidate = str(ipaddress.ip_address(candidate))
        except ValueError:
            return address
        if candidate not in trusted:
            return candidate
        address = candidate
    return address


def trusting(proxies: Iterable[str]) -> Middleware:
    """A middleware that gives every request the client's address as `request.remote`."""
    trusted = frozenset(str(ipaddress.ip_address(proxy)) for proxy in proxies)

    @web.middleware
    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not trusted or request.remote not in trusted:
            return await handler(request)
        remote = client_address(request.remote, request.headers.get("X-Forwarded-For"), trusted)
        return await handler(request.clone(remote=remote))

    return forwarded
