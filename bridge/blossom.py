"""Blossom (BUD-01, -02, -06, -11, -12): the Bridge as a media server of last resort.

Route handlers only: the work is in `bridge.db`, `bridge.blob_store` and `bridge.nostr_auth`.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from asknostr.nip01 import Event, is_hex64
from bridge.blob_store import BlobStore, TooLarge
from bridge.db import BlobRow, CursorNotFound, Database
from bridge.nostr_auth import AuthError, authorize, require_x

FALLBACK_TYPE = "application/octet-stream"
BLOB_CACHE_CONTROL = "public, max-age=31536000, immutable"  # content-addressed: a URL's bytes never change
CHUNK = 64 * 1024

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "*",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Headers": "Authorization, *",
    "Access-Control-Allow-Methods": "GET, HEAD, PUT, DELETE",
    "Access-Control-Max-Age": "86400",
}

_BLOSSOM_PATH = re.compile(r"/(?:upload|list/[^/]*|[0-9a-f]{64}(?:\.[A-Za-z0-9]{1,16})?)")
_MIME = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")


@dataclass
class Blossom:
    """What the handlers share: the store, the database, the limits, and the clock."""

    store: BlobStore
    db: Database | None
    public_url: str
    max_upload_bytes: int
    clock: Callable[[], float] = time.time
    lock: asyncio.Lock | None = None

    @property
    def server(self) -> str | None:
        """This server's domain, as BUD-11 `server` tags name it."""
        return urlsplit(self.public_url).hostname

    def authorize(self, request: web.Request, verb: str, sha256: str | None) -> Event:
        """The request's kind 24242 event for `verb` (and blob), checked against this server and its clock."""
        return authorize(
            request.headers.get("Authorization"), verb, now=self.clock(), sha256=sha256, server=self.server
        )

    def database(self) -> Database:
        if self.db is None:
            raise web.HTTPServiceUnavailable(reason="Database not open")
        return self.db

    def mutex(self) -> asyncio.Lock:
        if self.lock is None:
            self.lock = asyncio.Lock()
        return self.lock

    def descriptor(self, blob: BlobRow) -> dict[str, object]:
        ext = mimetypes.guess_extension(blob.type, strict=False) or ".bin"
        return {
            "url": f"{self.public_url.rstrip('/')}/{blob.sha256}{ext}",
            "sha256": blob.sha256,
            "size": blob.size,
            "type": blob.type,
            "uploaded": blob.uploaded,
        }


BLOSSOM_KEY = web.AppKey("blossom", Blossom)


def error(status: int, reason: str) -> web.Response:
    """An error with the reason in `X-Reason` (BUD-01) and, for older clients, as JSON `message`."""
    reason = reason.replace("\r", " ").replace("\n", " ")
    return web.json_response({"message": reason}, status=status, headers={"X-Reason": reason})


def is_blossom_path(path: str) -> bool:
    return _BLOSSOM_PATH.fullmatch(path) is not None


@web.middleware
async def blossom_cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`Access-Control-Allow-Origin: *` on every Blossom response, errors included; preflights answered here."""
    if not is_blossom_path(request.path):
        return await handler(request)
    if request.method == "OPTIONS":
        response: web.StreamResponse = web.Response(status=204)
        response.headers.update(PREFLIGHT_HEADERS)
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = error(exc.status, exc.reason)
    response.headers.update(CORS_HEADERS)
    return response


def _blossom(request: web.Request) -> Blossom:
    return request.app[BLOSSOM_KEY]


def _sha256_of(request: web.Request) -> str:
    return request.match_info["name"].partition(".")[0]


async def get_blob(request: web.Request) -> web.StreamResponse:
    """GET/HEAD /<sha256>[.ext]: the blob, with its stored type; Range requests get 206 (FileResponse)."""
    blossom = _blossom(request)
    sha256 = _sha256_of(request)
    blob = await blossom.database().get_blob(sha256)
    path = blossom.store.path(sha256)
    if blob is None or not path.is_file():
        return error(404, "Blob not found")
    headers = {"Content-Type": blob.type, "Cache-Control": BLOB_CACHE_CONTROL}
    return web.FileResponse(path, chunk_size=CHUNK, headers=headers)


def _now(blossom: Blossom) -> int:
    return int(blossom.clock())


def _declared_sha256(request: web.Request) -> str | None:
    value = request.headers.get("X-SHA-256")
    if value is None:
        return None
    if not is_hex64(value):
        raise AuthError(400, "X-SHA-256 must be 64 lowercase hex")
    return value


async def upload_preflight(request: web.Request) -> web.Response:
    """HEAD /upload (BUD-06): would a PUT with these X-Content-Length, X-Content-Type, X-SHA-256 be accepted?"""
    blossom = _blossom(request)
    length = request.headers.get("X-Content-Length")
    if length is None:
        return error(411, "Missing X-Content-Length header")
    if not length.isdigit():
        return error(400, "X-Content-Length must be a non-negative integer")
    if int(length) > blossom.max_upload_bytes:
        return error(413, f"File too large. Max allowed size is {blossom.max_upload_bytes} bytes")
    content_type = request.headers.get("X-Content-Type")
    if content_type is not None and _MIME.fullmatch(content_type.split(";")[0].strip()) is None:
        return error(400, "X-Content-Type is not a MIME type")
    try:
        sha256 = _declared_sha256(request)
        if sha256 is None:
            return error(400, "Missing X-SHA-256 header")
        blossom.authorize(request, "upload", sha256)
    except AuthError as exc:
        return error(exc.status, exc.reason)
    return web.Response(status=200)


def _blob_type(request: web.Request) -> str:
    value = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return value if _MIME.fullmatch(value) else FALLBACK_TYPE


async def _chunks(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(CHUNK):
        yield chunk


async def upload(request: web.Request) -> web.Response:
    """PUT /upload (BUD-02): store the body under its sha256 for the signer; 201 if new, 200 if already here."""
    blossom = _blossom(request)
    db = blossom.database()
    try:
        declared = _declared_sha256(request)
        event = blossom.authorize(request, "upload", declared)
    except AuthError as exc:
        return error(exc.status, exc.reason)
    if request.content_length is not None and request.content_length > blossom.max_upload_bytes:
        return error(413, f"File too large. Max allowed size is {blossom.max_upload_bytes} bytes")
    try:
        received = await blossom.store.receive(_chunks(request), blossom.max_upload_bytes)
    except TooLarge as exc:
        return error(413, str(exc))
    try:
        if declared is not None and received.sha256 != declared:
            return error(409, f"Body's sha256 is {received.sha256}, not the X-SHA-256 {declared}")
        try:
            require_x(event, received.sha256)
        except AuthError as exc:
            return error(exc.status, exc.reason)
        row = BlobRow(received.sha256, received.size, _blob_type(request), _now(blossom))
        async with blossom.mutex():
            await blossom.store.commit(received)
            created = await db.add_blob(row, event["pubkey"], _now(blossom))
            stored = row if created else (await db.get_blob(row.sha256) or row)
    finally:
        await blossom.store.discard(received)  # a no-op once committed
    return web.json_response(blossom.descriptor(stored), status=201 if created else 200)


async def delete_blob(request: web.Request) -> web.Response:
    """DELETE /<sha256> (BUD-12): the signer stops owning the blob; the file goes when nobody owns it."""
    blossom = _blossom(request)
    db = blossom.database()
    sha256 = _sha256_of(request)
    try:
        event = blossom.authorize(request, "delete", sha256)
    except AuthError as exc:
        return error(exc.status, exc.reason)
    async with blossom.mutex():
        if await db.get_blob(sha256) is None:
            return error(404, "Blob not found")
        if not await db.is_owner(sha256, event["pubkey"]):
            return error(403, "Only an uploader of this blob can delete it")
        if await db.remove_owner(sha256, event["pubkey"]):
            await blossom.store.delete(sha256)
    return web.json_response({"message": "Deleted"})


def _int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ValueError(f"{name} must be a non-negative integer")
    return int(value)


async def list_blobs(request: web.Request) -> web.Response:
    """GET /list/<pubkey> (BUD-12): the pubkey's blob descriptors, newest first; since/until, cursor/limit."""
    blossom = _blossom(request)
    pubkey = request.match_info["pubkey"]
    if not is_hex64(pubkey):
        return error(400, "pubkey must be 64 lowercase hex")
    cursor = request.query.get("cursor") or None
    if cursor is not None and not is_hex64(cursor):
        return error(400, "cursor must be a sha256 (64 lowercase hex)")
    try:
        since, until, limit = (_int_param(request, name) for name in ("since", "until", "limit"))
        rows = await blossom.database().list_blobs(pubkey, since=since, until=until, cursor=cursor, limit=limit)
    except ValueError as exc:
        return error(400, str(exc))
    except CursorNotFound:
        return error(400, "cursor names no blob on this server")
    return web.json_response([blossom.descriptor(row) for row in rows])


def add_blossom_routes(
    app: web.Application,
    data_dir: Path,
    *,
    public_url: str,
    max_upload_bytes: int,
    clock: Callable[[], float] = time.time,
) -> Blossom:
    """The BUD endpoints, before any catch-all route; the database opens and closes with the app.

    The app must also have the `blossom_cors` middleware (CORS and OPTIONS preflights).
    """
    blossom = Blossom(BlobStore(data_dir / "blobs"), None, public_url, max_upload_bytes, clock)
    app[BLOSSOM_KEY] = blossom

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await asyncio.to_thread(blossom.store.setup)
        blossom.db = await Database.open(data_dir)
        yield
        db, blossom.db = blossom.db, None
        await db.close()

    app.cleanup_ctx.append(lifecycle)
    blob = r"/{name:[0-9a-f]{64}(?:\.[A-Za-z0-9]{1,16})?}"
    app.router.add_route("PUT", "/upload", upload)
    app.router.add_route("HEAD", "/upload", upload_preflight)
    app.router.add_get("/list/{pubkey}", list_blobs)
    app.router.add_get(blob, get_blob)  # and HEAD
    app.router.add_delete(blob, delete_blob)
    return blossom
