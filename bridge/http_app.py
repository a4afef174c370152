"""The Bridge's HTTP layer: a thin skin of routes over plain functions."""

from __future__ import annotations

from aiohttp import web

from bridge.config import BridgeConfig
from bridge.pwa import add_pwa_routes, pwa_headers


def make_app(config: BridgeConfig) -> web.Application:
    app = web.Application(middlewares=[pwa_headers])

    async def client_config(_request: web.Request) -> web.Response:
        return web.json_response(config.client_config())

    app.router.add_get("/config.json", client_config)
    add_pwa_routes(app, config.web_root)
    return app
