"""`POST /api/heartbeat`: a browser reports, NIP-98 signed, the infoHashes it seeds and the seeders it sees.

Body: `{"torrents": [{"info_hash": "<40 hex>", "seeders": <count>}, …]}` (bridge.swarm_health.parse_heartbeat).
Answer: `{"accepted": n, "ignored": m, "ttl": seconds}` — reports about torrents the Bridge does not hold are
ignored. Rate limited per address (before the signature check, which costs more) and per pubkey; a refusal is
429 with `Retry-After`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aiohttp import web

from bridge.errors import BridgeError, parse_json
from bridge.rate_limit import RateLimiter
from bridge.signed_request import read_body, signer_of
from bridge.swarm import SWARM_KEY
from bridge.swarm_health import HeartbeatError, parse_heartbeat

MAX_BODY = 256 * 1024


@dataclass(frozen=True)
class HeartbeatLimits:
    per_address: RateLimiter
    per_key: RateLimiter


LIMITS_KEY = web.AppKey("heartbeat_limits", HeartbeatLimits)


def _too_many(wait: float, counted: str) -> BridgeError:
    return BridgeError(429, f"too many heartbeats from this {counted}", {"Retry-After": str(math.ceil(wait))})


async def heartbeat_handler(request: web.Request) -> web.Response:
    keeper, limits = request.app[SWARM_KEY], request.app[LIMITS_KEY]
    now = keeper.clock()
    wait = limits.per_address.allow(request.remote or "", now)
    if wait:
        keeper.counters.refused("rate")
        raise _too_many(wait, "address")
    stage = "malformed"
    try:
        body = await read_body(request, MAX_BODY, "heartbeat")
        stage = "auth"
        pubkey = signer_of(request, body, int(now), keeper.storage.app_url)
        wait = limits.per_key.allow(pubkey, now)
        if wait:
            stage = "rate"
            raise _too_many(wait, "key")
        stage = "malformed"
        reports = parse_heartbeat(parse_json(body, "the heartbeat's body"))
    except HeartbeatError as exc:
        keeper.counters.refused(stage)
        raise BridgeError(400, str(exc)) from None
    except BridgeError:
        keeper.counters.refused(stage)
        raise
    accepted, ignored = keeper.heartbeat(pubkey, reports)
    return web.json_response({"accepted": accepted, "ignored": ignored, "ttl": keeper.votes.ttl})


def add_heartbeat_routes(app: web.Application, *, per_key_per_minute: float, per_address_per_minute: float) -> None:
    """Needs the app's SwarmKeeper (SWARM_KEY) first."""
    app[LIMITS_KEY] = HeartbeatLimits(
        per_address=RateLimiter(per_address_per_minute, burst=max(1.0, per_address_per_minute / 2)),
        per_key=RateLimiter(per_key_per_minute, burst=max(1.0, per_key_per_minute / 2)),
    )
    app.router.add_post("/api/heartbeat", heartbeat_handler)
