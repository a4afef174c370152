"""`POST /api/heartbeat`: a browser reports, NIP-98 signed, the infoHashes it seeds and the seeders it sees.

Body: `{"torrents": [{"info_hash": "<40 hex>", "seeders": <count>}, …], "ask_held": true}`, at most
MAX_TORRENTS_PER_HEARTBEAT torrents and MAX_BODY bytes (bridge.swarm_health.parse_heartbeat, asks_held).
Answer: `{"accepted": n, "ignored": m, "ttl": seconds}` — reports about torrents the Bridge does not hold are
ignored — and, when the body asks, `"held": [<infoHash>, …]`, the reported torrents it holds: a browser that keeps
more than one body holds reports those every time and asks about the rest in turn (asknostr.heartbeat).
Rate limited per address (before the signature check, which costs more) and per pubkey; a refusal is 429 with
`Retry-After`.
"""

from __future__ import annotations

from aiohttp import web

from bridge.errors import BridgeError, parse_json
from bridge.signed_request import RequestLimits, read_body, signer_of
from bridge.swarm import SWARM_KEY
from bridge.swarm_health import HeartbeatError, asks_held, parse_heartbeat

MAX_BODY = 256 * 1024


LIMITS_KEY = web.AppKey("heartbeat_limits", RequestLimits)


async def heartbeat_handler(request: web.Request) -> web.Response:
    keeper, limits = request.app[SWARM_KEY], request.app[LIMITS_KEY]
    now = keeper.clock()
    stage = "rate"  # what a refusal is counted as, in /metrics
    try:
        limits.check_address(request.remote or "", now)
        stage = "malformed"
        body = await read_body(request, MAX_BODY, "heartbeat")
        stage = "auth"
        pubkey = signer_of(request, body, int(now), keeper.storage.app_url)
        stage = "rate"
        limits.check_key(pubkey, now)
        stage = "malformed"
        payload = parse_json(body, "the heartbeat's body")
        reports, ask = parse_heartbeat(payload), asks_held(payload)
    except HeartbeatError as exc:
        keeper.counters.refused(stage)
        raise BridgeError(400, str(exc)) from None
    except BridgeError:
        keeper.counters.refused(stage)
        raise
    held = await keeper.heartbeat(pubkey, reports)
    answer: dict[str, object] = {"accepted": len(held), "ignored": len(reports) - len(held), "ttl": keeper.votes_ttl}
    return web.json_response(answer | ({"held": held} if ask else {}))


def add_heartbeat_routes(app: web.Application, *, per_key_per_minute: float, per_address_per_minute: float) -> None:
    """Needs the app's SwarmKeeper (SWARM_KEY) first."""
    app[LIMITS_KEY] = RequestLimits.per_minute(
        "heartbeats", per_key=per_key_per_minute, per_address=per_address_per_minute
    )
    app.router.add_post("/api/heartbeat", heartbeat_handler)
