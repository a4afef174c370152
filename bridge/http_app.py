"""The Bridge's HTTP layer: a thin skin of routes over plain functions, and the wiring of its parts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bridge.blossom import add_blossom_routes, blossom_cors
from bridge.bootstrap import add_bootstrap_routes
from bridge.config import BridgeConfig
from bridge.heartbeat import add_heartbeat_routes
from bridge.pwa import add_pwa_routes, pwa_headers
from bridge.seeder import Seeder
from bridge.status import add_status_routes
from bridge.swarm import SWARM_KEY, SwarmKeeper
from bridge.swarm_health import HandoffPolicy, VoteBook


def make_app(config: BridgeConfig, *, clock: Callable[[], float] = time.time) -> web.Application:
    """The whole Bridge. `clock` (seconds since the epoch) is injectable: tests move time forward."""
    app = web.Application(middlewares=[pwa_headers, blossom_cors])

    async def client_config(_request: web.Request) -> web.Response:
        return web.json_response(config.client_config())

    app.router.add_get("/config.json", client_config)
    # Blossom before the PWA's static files, whose route matches every path
    blossom = add_blossom_routes(
        app, config.data_dir, public_url=config.blossom_url(), max_upload_bytes=config.max_upload_bytes, clock=clock
    )
    keeper = SwarmKeeper(
        blossom,
        Seeder(config.data_dir / "seeding", stun_server=config.stun),
        VoteBook(config.heartbeat_ttl),
        HandoffPolicy(config.handoff_seeders, config.handoff_age),
        clock,
        scrape_trackers=config.trackers,
    )
    app[SWARM_KEY] = keeper

    async def swarm_lifecycle(_app: web.Application) -> AsyncIterator[None]:
        # after Blossom's (its database is open): seed again what was seeded before a restart
        keeper.seeder.start()
        await keeper.resume()
        keeper.start(config.retention_interval)
        yield
        await keeper.close()
        await keeper.seeder.close()

    app.cleanup_ctx.append(swarm_lifecycle)
    add_bootstrap_routes(app, trackers=config.trackers, fetch_allow_hosts=frozenset(config.fetch_allow_hosts))
    add_heartbeat_routes(
        app,
        per_key_per_minute=config.heartbeat_per_key_per_minute,
        per_address_per_minute=config.heartbeat_per_address_per_minute,
    )
    add_status_routes(app)
    add_pwa_routes(app, config.web_root)
    return app
