"""Blossom (BUD-01, -02, -06, -11, -12): the Bridge as a media server of last resort.

Route handlers only: the work is in `bridge.db`, `bridge.blob_store` and `bridge.nostr_auth`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.typedefs import Handler

from asknostr.nip01 import Event, is_hex64
from bridge import blob_policy
from bridge.blob_store import BlobMissing, Chunks, TooLarge
from bridge.db import BlobRow, CursorNotFound
from bridge.errors import BridgeError, bridge_errors, error_response
from bridge.nostr_auth import authorize, require_x
from bridge.resumable import UPLOADS_KEY, ResumableUploads, add_resumable_routes, wants_resumable
from bridge.storage import Storage

FALLBACK_TYPE = "application/octet-stream"
BLOB_CACHE_CONTROL = "public, max-age=31536000, immutable"  # content-addressed: a URL's bytes never change
CHUNK = 64 * 1024

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "*",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Headers": "Authorization, *",
    "Access-Control-Allow-Methods": "GET, HEAD, PUT, PATCH, DELETE",
    "Access-Control-Max-Age": "86400",
}

_DECIMAL = re.compile(r"[0-9]{1,30}")
_MIME = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*", re.ASCII)
BLOB_ROUTE = r"/{name:[0-9a-f]{64}(?:\.[A-Za-z0-9]{1,16})?}"

STORAGE_KEY = web.AppKey("storage", Storage)


@web.middleware
async def blossom_cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`Access-Control-Allow-Origin: *` on every response of the blobs' origin, errors included; preflights
    answered here."""
    if request.method == "OPTIONS":
        response: web.StreamResponse = web.Response(status=204)
        response.headers.update(PREFLIGHT_HEADERS)
        if (request.path == "/upload" or request.path.startswith("/upload/")) and UPLOADS_KEY in request.app:
            response.headers.update(request.app[UPLOADS_KEY].options_headers())  # resumable uploads are here
    else:
        response = await handler(request)  # refusals come shaped by bridge.errors, inside this middleware
    response.headers.update(CORS_HEADERS)
    return response


def _authorize(request: web.Request, verb: str, sha256: str | None) -> Event:
    """The request's kind 24242 event for `verb` (and blob), checked against this server and its clock."""
    storage = _storage(request)
    header = request.headers.get("Authorization")
    return authorize(header, verb, now=storage.clock(), sha256=sha256, server=storage.media_server)


def _storage(request: web.Request) -> Storage:
    return request.app[STORAGE_KEY]


def _sha256_of(request: web.Request) -> str:
    return request.match_info["name"].partition(".")[0]


class BlobResponse(web.FileResponse):
    """aiohttp's FileResponse, whose own refusal (412, a failed If-Match or If-Unmodified-Since) comes in the
    Bridge's one error shape like every other, and which serves the whole blob when the Range header is not one
    well-formed range (RFC 9110 lets a server ignore it; aiohttp would answer 416). Unsatisfiable ranges never reach
    it: `get_blob` refuses them."""

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if "Range" in request.headers and not blob_policy.single_range(request.headers["Range"]):
            request = request.clone(headers={k: v for k, v in request.headers.items() if k.lower() != "range"})
        return await super().prepare(request)

    async def _precondition_failed(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        reason = "Precondition failed: the blob does not match If-Match or If-Unmodified-Since"
        refusal = error_response(412, reason)
        self.set_status(412)
        self.content_type = "application/json"
        self.headers["X-Reason"] = reason
        assert isinstance(refusal.body, bytes)
        self.content_length = len(refusal.body)
        writer = await web.StreamResponse.prepare(self, request)
        await self.write(refusal.body)
        return writer


async def get_blob(request: web.Request) -> web.StreamResponse:
    """GET/HEAD /<sha256>[.ext]: the blob, with its stored type and the headers that keep it inert
    (bridge.blob_policy); one Range gets 206, an unsatisfiable one 416. From this disk when the blob is here
    (FileResponse), else streamed from the fleet's object store."""
    storage = _storage(request)
    sha256 = _sha256_of(request)
    blob = await storage.db.get_blob(sha256)
    if blob is None:
        raise BridgeError(404, "Blob not found")
    size = blob.size
    if not blob_policy.range_satisfiable(request.headers.get("Range"), size):
        raise BridgeError(416, "Range not satisfiable", {"Content-Range": f"bytes */{size}"})
    headers = {**blob_policy.response_headers(blob.type), "Cache-Control": BLOB_CACHE_CONTROL}
    path = storage.store.local(sha256)
    if path is not None:
        return BlobResponse(path, chunk_size=CHUNK, headers=headers)
    return await _stream_blob(request, storage, blob, headers)


async def _stream_blob(
    request: web.Request, storage: Storage, blob: BlobRow, headers: dict[str, str]
) -> web.StreamResponse:
    """The blob (or its one Range) read from the object store as it goes out. Its ETag is its sha256: If-Match,
    If-None-Match and If-Range are answered against it (412, 304, the whole blob)."""
    etag = f'"{blob.sha256}"'
    if (wanted := request.if_match) is not None and not any(e.value in (blob.sha256, "*") for e in wanted):
        raise BridgeError(412, "Precondition failed: the blob does not match If-Match")
    if (cached := request.if_none_match) is not None and any(e.value in (blob.sha256, "*") for e in cached):
        return web.Response(status=304, headers={"ETag": etag, "Cache-Control": BLOB_CACHE_CONTROL})
    if_range = request.headers.get("If-Range")
    bounds = blob_policy.byte_range(request.headers.get("Range"), blob.size) if if_range in (None, etag) else None
    first, last = bounds or (0, blob.size - 1)
    headers |= {"Accept-Ranges": "bytes", "ETag": etag, "Content-Length": str(last - first + 1)}
    if bounds is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{blob.size}"
    chunks: Chunks | None = None
    try:
        if request.method != "HEAD" and last >= first:
            chunks = await storage.store.stream(blob.sha256, first, last)
        elif not await storage.store.exists(blob.sha256):
            raise BlobMissing(blob.sha256)
    except BlobMissing:
        raise BridgeError(404, "Blob not found") from None
    try:
        response = web.StreamResponse(status=206 if bounds is not None else 200, headers=headers)
        await response.prepare(request)
        if chunks is not None:
            async for chunk in chunks:
                await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        if chunks is not None:
            await chunks.aclose()  # the object store's body closed, also when the client went away


def _now(storage: Storage) -> int:
    return int(storage.clock())


def _declared_sha256(request: web.Request) -> str | None:
    value = request.headers.get("X-SHA-256")
    if value is None:
        return None
    if not is_hex64(value):
        raise BridgeError(400, "X-SHA-256 must be 64 lowercase hex")
    return value


def _too_large(storage: Storage) -> BridgeError:
    return BridgeError(413, f"File too large. Max allowed size is {storage.max_upload_bytes} bytes")


async def upload_preflight(request: web.Request) -> web.Response:
    """HEAD /upload (BUD-06): would a PUT with these X-Content-Length, X-Content-Type, X-SHA-256 be accepted?"""
    storage = _storage(request)
    length = request.headers.get("X-Content-Length")
    if length is None:
        raise BridgeError(411, "Missing X-Content-Length header")
    if _DECIMAL.fullmatch(length) is None:  # ASCII digits only: str.isdigit() also takes "²", which int() refuses
        raise BridgeError(400, "X-Content-Length must be a non-negative integer")
    if int(length) > storage.max_upload_bytes:
        raise _too_large(storage)
    content_type = request.headers.get("X-Content-Type")
    if content_type is not None and _MIME.fullmatch(content_type.split(";")[0].strip()) is None:
        raise BridgeError(400, "X-Content-Type is not a MIME type")
    sha256 = _declared_sha256(request)
    if sha256 is None:
        raise BridgeError(400, "Missing X-SHA-256 header")
    _authorize(request, "upload", sha256)
    return web.Response(status=200)


def _blob_type(request: web.Request) -> str:
    value = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return value if _MIME.fullmatch(value) else FALLBACK_TYPE


async def _chunks(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(CHUNK):
        yield chunk


async def upload(request: web.Request) -> web.StreamResponse:
    """PUT /upload (BUD-02): store the body under its sha256 for the signer; 201 if new, 200 if already here.
    With an `Upload-Complete` header, a resumable upload begins instead (bridge.resumable)."""
    if UPLOADS_KEY in request.app and wants_resumable(request):
        return await request.app[UPLOADS_KEY].create(request, _blob_type(request))
    storage = _storage(request)
    db = storage.db
    declared = _declared_sha256(request)
    event = _authorize(request, "upload", declared)
    if request.content_length is not None and request.content_length > storage.max_upload_bytes:
        raise _too_large(storage)
    try:
        received = await storage.store.receive(_chunks(request), storage.max_upload_bytes)
    except TooLarge:
        raise _too_large(storage) from None
    try:
        if declared is not None and received.sha256 != declared:
            raise BridgeError(409, f"Body's sha256 is {received.sha256}, not the X-SHA-256 {declared}")
        require_x(event, received.sha256)
        row = BlobRow(received.sha256, received.size, _blob_type(request), _now(storage))
        await storage.store.prepare(received)
        async with storage.blob_lock(received.sha256):
            await storage.store.commit(received)
            created = await db.add_blob(row, event["pubkey"], _now(storage))
            stored = row if created else (await db.get_blob(row.sha256) or row)
    finally:
        await storage.store.discard(received)  # a no-op once committed
    return web.json_response(storage.descriptor(stored), status=201 if created else 200)


async def delete_blob(request: web.Request) -> web.Response:
    """DELETE /<sha256> (BUD-12): the signer stops owning the blob; the file goes when nobody owns it."""
    storage = _storage(request)
    db = storage.db
    sha256 = _sha256_of(request)
    event = _authorize(request, "delete", sha256)
    async with storage.blob_lock(sha256):
        if await db.get_blob(sha256) is None:
            raise BridgeError(404, "Blob not found")
        if not await db.is_owner(sha256, event["pubkey"]):
            raise BridgeError(403, "Only an uploader of this blob can delete it")
        if await db.remove_owner(sha256, event["pubkey"], _now(storage)):
            await storage.delete_blob_file(sha256)
    return web.json_response({"message": "Deleted"})


MAX_INT_PARAM = 2**63 - 1
"""What SQLite's INTEGER holds: a larger `since`, `until` or `limit` is refused, not overflowed."""


def _int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    if _DECIMAL.fullmatch(value) is None or int(value) > MAX_INT_PARAM:
        raise BridgeError(400, f"{name} must be an integer from 0 to {MAX_INT_PARAM}")
    return int(value)


async def list_blobs(request: web.Request) -> web.Response:
    """GET /list/<pubkey> (BUD-12): the pubkey's blob descriptors, newest first; since/until, cursor/limit."""
    storage = _storage(request)
    pubkey = request.match_info["pubkey"]
    if not is_hex64(pubkey):
        raise BridgeError(400, "pubkey must be 64 lowercase hex")
    cursor = request.query.get("cursor") or None
    if cursor is not None and not is_hex64(cursor):
        raise BridgeError(400, "cursor must be a sha256 (64 lowercase hex)")
    since, until, limit = (_int_param(request, name) for name in ("since", "until", "limit"))
    try:
        rows = await storage.db.list_blobs(pubkey, since=since, until=until, cursor=cursor, limit=limit)
    except CursorNotFound:
        raise BridgeError(400, "cursor names no blob on this server") from None
    return web.json_response([storage.descriptor(row) for row in rows])


async def to_media_origin(request: web.Request) -> web.Response:
    """A blob path on the app's origin (links made before blobs had an origin of their own): sent to the blobs'
    origin, never served here."""
    target = _storage(request).media_url.rstrip("/") + request.path
    raise web.HTTPPermanentRedirect(target)


def make_media_app(storage: Storage, uploads: ResumableUploads | None = None) -> web.Application:
    """The blobs' own origin: the BUD endpoints and nothing else (no page of the app, no API), and resumable
    uploads when `uploads` is given. The storage (and `uploads`) are opened by the app that serves the PWA
    (bridge.http_app)."""
    app = web.Application(middlewares=[blossom_cors, bridge_errors])
    app[STORAGE_KEY] = storage
    app.router.add_route("PUT", "/upload", upload)
    app.router.add_route("HEAD", "/upload", upload_preflight)
    if uploads is not None:
        add_resumable_routes(app, uploads)
    app.router.add_get("/list/{pubkey}", list_blobs)
    app.router.add_get(BLOB_ROUTE, get_blob)  # and HEAD
    app.router.add_delete(BLOB_ROUTE, delete_blob)
    return app
