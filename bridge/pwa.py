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


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        # WebAssembly (Pyodide, the signing library); Pyodide and PyScript also evaluate generated JS glue
        "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "connect-src 'self' ws: wss: http: https:",  # the user's relays, trackers and media servers
        "img-src 'self' data: blob: http: https:",  # media in posts, from anywhere, as URLs only
        "media-src 'self' data: blob: http: https:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""Posts are untrusted: no script can come from anywhere but the app's own files, whatever a post contains."""


@web.middleware
async def pwa_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Revalidate every file (Last-Modified; the service worker serves them offline) and lock content down."""
    response = await handler(request)
    response.headers.setdefault("Cache-Control", "no-cache")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
