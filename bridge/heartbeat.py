"""`POST /api/heartbeat`: a browser reports, NIP-98 signed, the infoHashes it seeds and the seeders it sees.

Body: `{"torrents": [{"info_hash": "<40 hex>", "seeders": <count>}, …]}` (bridge.swarm_health.parse_heartbeat).
Answer: `{"accepted": n, "ignored": m, "ttl": seconds}` — reports about torrents the Bridge does not hold are
ignored. Rate limited per address (before the signature check, which costs more) and per pubkey; a refusal is
429 with `Retry-After`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from aiohttp import web

from bridge import nip98
from bridge.rate_limit import RateLimiter
from bridge.signed_request import BodyTooLarge, read_body, signer_of
from bridge.swarm import SWARM_KEY
from bridge.swarm_health import HeartbeatError, parse_heartbeat

MAX_BODY = 256 * 1024


@dataclass(frozen=True)
class HeartbeatLimits:
    per_address: RateLimiter
    per_key: RateLimiter


LIMITS_KEY = web.AppKey("heartbeat_limits", HeartbeatLimits)


def _refuse(status: int, reason: str, **headers: str) -> web.Response:
    return web.json_response({"error": reason}, status=status, headers={"X-Reason": reason, **headers})


def _too_many(wait: float, counted: str) -> web.Response:
    return _refuse(429, f"too many heartbeats from this {counted}", **{"Retry-After": str(math.ceil(wait))})


async def heartbeat_handler(request: web.Request) -> web.Response:
    keeper, limits = request.app[SWARM_KEY], request.app[LIMITS_KEY]
    now = keeper.clock()
    wait = limits.per_address.allow(request.remote or "", now)
    if wait:
        keeper.counters.refused("rate")
        return _too_many(wait, "address")
    try:
        body = await read_body(request, MAX_BODY)
    except BodyTooLarge:
        keeper.counters.refused("malformed")
        return _refuse(413, f"heartbeat body larger than {MAX_BODY} bytes")
    try:
        pubkey = signer_of(request, body, int(now), keeper.blossom.public_url)
    except nip98.HttpAuthError as exc:
        keeper.counters.refused("auth")
        return _refuse(401, exc.reason)
    wait = limits.per_key.allow(pubkey, now)
    if wait:
        keeper.counters.refused("rate")
        return _too_many(wait, "key")
    try:
        reports = parse_heartbeat(json.loads(body))
    except (ValueError, HeartbeatError) as exc:
        keeper.counters.refused("malformed")
        return _refuse(400, str(exc) if isinstance(exc, HeartbeatError) else "body is not JSON")
    accepted, ignored = keeper.heartbeat(pubkey, reports)
    return web.json_response({"accepted": accepted, "ignored": ignored, "ttl": keeper.votes.ttl})


def add_heartbeat_routes(app: web.Application, *, per_key_per_minute: float, per_address_per_minute: float) -> None:
    """Needs the app's SwarmKeeper (SWARM_KEY) first."""
    app[LIMITS_KEY] = HeartbeatLimits(
        per_address=RateLimiter(per_address_per_minute, burst=max(1.0, per_address_per_minute / 2)),
        per_key=RateLimiter(per_key_per_minute, burst=max(1.0, per_key_per_minute / 2)),
    )
    app.router.add_post("/api/heartbeat", heartbeat_handler)
