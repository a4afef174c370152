"""The Bridge's HTTP layer: a thin skin of routes over plain functions."""

from __future__ import annotations

from aiohttp import web

from bridge.blossom import add_blossom_routes, blossom_cors
from bridge.bootstrap import add_bootstrap_routes
from bridge.config import BridgeConfig
from bridge.pwa import add_pwa_routes, pwa_headers


def make_app(config: BridgeConfig) -> web.Application:
    app = web.Application(middlewares=[pwa_headers, blossom_cors])

    async def client_config(_request: web.Request) -> web.Response:
        return web.json_response(config.client_config())

    app.router.add_get("/config.json", client_config)
    # Blossom before the PWA's static files, whose route matches every path
    add_blossom_routes(app, config.data_dir, public_url=config.blossom_url(), max_upload_bytes=config.max_upload_bytes)
    add_bootstrap_routes(
        app, config.data_dir, trackers=config.trackers, fetch_allow_hosts=frozenset(config.fetch_allow_hosts)
    )
    add_pwa_routes(app, config.web_root)
    return app
