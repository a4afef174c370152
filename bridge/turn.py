"""TURN credentials for the app's users: `POST /api/turn`, NIP-98 signed, answers the deployment's ICE servers with
a TURN username and password that expire.

Browsers behind symmetric NATs (mobile carriers, many offices) reach no peer without a TURN relay, and a relay
anyone may use is an open proxy. So the Bridge and the TURN server share a secret (coturn's `use-auth-secret` and
`static-auth-secret`, the "TURN REST API" scheme): the username is `<expiry, unix seconds>:<pubkey>`, the password
base64(HMAC-SHA1(secret, username)). coturn checks both and the expiry itself; the Bridge hands them out only to a
signed request, rate limited per address (before the signature check, which costs more) and per key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field

from aiohttp import web

from bridge.errors import BridgeError
from bridge.signed_request import RequestLimits, read_body, signer_of
from bridge.storage import Storage

MAX_BODY = 1024


def credential(secret: str, pubkey: str, expires: int) -> tuple[str, str]:
    """coturn's shared-secret credential: (username, password) valid until `expires` (unix seconds)."""
    username = f"{expires}:{pubkey}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


@dataclass(frozen=True)
class TurnService:
    urls: tuple[str, ...]
    """turn: / turns: URLs of the deployment's TURN server."""
    secret: str = field(repr=False)
    ttl: float
    stun: tuple[str, ...]
    """The STUN servers browsers get too (`stun:` URLs)."""
    limits: RequestLimits
    storage: Storage

    def ice_servers(self, pubkey: str, now: float) -> dict[str, object]:
        expires = int(now + self.ttl)
        username, password = credential(self.secret, pubkey, expires)
        servers: list[dict[str, object]] = [{"urls": list(self.stun)}] if self.stun else []
        servers.append({"urls": list(self.urls), "username": username, "credential": password})
        return {"ice_servers": servers, "expires": expires, "ttl": self.ttl}


TURN_KEY = web.AppKey("turn", TurnService)


async def turn_handler(request: web.Request) -> web.Response:
    service = request.app[TURN_KEY]
    now = service.storage.clock()
    service.limits.check_address(request.remote or "", now)
    body = await read_body(request, MAX_BODY, "TURN request")
    pubkey = signer_of(request, body, int(now), service.storage.app_url)
    service.limits.check_key(pubkey, now)
    return web.json_response(service.ice_servers(pubkey, now))


async def no_turn(_request: web.Request) -> web.Response:
    raise BridgeError(404, "this Bridge offers no TURN server")


def add_turn_routes(
    app: web.Application,
    storage: Storage,
    *,
    urls: tuple[str, ...],
    secret: str,
    ttl: float,
    stun: tuple[str, ...],
    per_key_per_minute: float,
    per_address_per_minute: float,
) -> None:
    """`POST /api/turn` (404 when the deployment has no TURN server)."""
    if not urls or not secret:
        app.router.add_post("/api/turn", no_turn)
        return
    app[TURN_KEY] = TurnService(
        urls,
        secret,
        ttl,
        stun,
        RequestLimits.per_minute("TURN requests", per_key=per_key_per_minute, per_address=per_address_per_minute),
        storage,
    )
    app.router.add_post("/api/turn", turn_handler)
