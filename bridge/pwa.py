"""Serving the PWA's files: the right content types, revalidation, and / as index.html."""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from bridge.errors import BridgeError

for _type, _ext in (
    ("text/javascript", ".mjs"),
    ("text/javascript", ".js"),
    ("application/wasm", ".wasm"),
    ("application/manifest+json", ".webmanifest"),
    ("application/toml", ".toml"),
    ("text/x-python", ".py"),
):
    mimetypes.add_type(_type, _ext)


MAX_NAME_BYTES = 255
"""The longest file name the file system takes: a longer one is no file of ours (and would fail with ENAMETOOLONG)."""


def _file_of(web_root: Path, name: str) -> Path:
    """The file under `web_root` that `name` (the URL path without its leading /) names; BridgeError(404) when
    there is none: no listing, no escape from `web_root`, no name the file system would refuse."""
    parts = name.split("/")
    if len(name) > 1024 or any(len(part.encode()) > MAX_NAME_BYTES or part in ("", ".", "..") for part in parts):
        raise BridgeError(404, "no such file")
    path = web_root.joinpath(*parts)
    try:
        if path.resolve().is_relative_to(web_root.resolve()) and path.is_file():
            return path
    except (OSError, ValueError):  # ValueError: a NUL in the name
        pass
    raise BridgeError(404, "no such file")


def add_pwa_routes(app: web.Application, web_root: Path) -> None:
    """`/` is index.html; every other path is a file under `web_root`."""

    async def index(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(web_root / "index.html")

    async def static_file(request: web.Request) -> web.FileResponse:
        return web.FileResponse(await asyncio.to_thread(_file_of, web_root, request.match_info["name"]))

    app.router.add_get("/", index)
    app.router.add_get("/{name:.+}", static_file)


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
