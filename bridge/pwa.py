"""Serving the PWA's files: the right content types, revalidation, and / as index.html."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

for _type, _ext in (
    ("text/javascript", ".mjs"),
    ("text/javascript", ".js"),
    ("application/wasm", ".wasm"),
    ("application/manifest+json", ".webmanifest"),
    ("application/toml", ".toml"),
    ("text/x-python", ".py"),
):
    mimetypes.add_type(_type, _ext)


def add_pwa_routes(app: web.Application, web_root: Path) -> None:
    """`/` is index.html; every other path is a file under `web_root` (no listing, no escape)."""

    async def index(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(web_root / "index.html")

    app.router.add_get("/", index)
    app.router.add_static("/", web_root, follow_symlinks=False, append_version=False)


@web.middleware
async def revalidate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Browsers revalidate every file (Last-Modified); the service worker is what serves them offline."""
    response = await handler(request)
    response.headers.setdefault("Cache-Control", "no-cache")
    return response
