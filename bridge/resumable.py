"""Resumable uploads to the Bridge's Blossom server: the IETF draft "Resumable Uploads for HTTP"
(draft-ietf-httpbis-resumable-upload), with Blossom's kind 24242 authorization.

Why this protocol and not Blossom's multi-part upload draft: Blossom's is not one draft but several open, competing
pull requests (BUD-10/12 `PATCH /upload` with chunks, then `PATCH /<sha256>`), none merged, whose shape still
changes; the IETF draft is an HTTP working group document on the standards track, already at its 14th revision,
with client libraries (tus-js-client speaks its drafts) and exactly what a phone's upload needs: the server's
offset on request (`HEAD`), appends that must start at it (`PATCH`, 409 with the right offset otherwise), a
declared length and limits (`Upload-Limit`), expiry, cancellation (`DELETE`) and completion. Blossom's part is
the authorization and the result: the session is created with the usual BUD-02 upload auth naming the blob's
sha256, and the finished upload answers the BUD-02 blob descriptor. A plain `PUT /upload` (no `Upload-Complete`
header) is BUD-02 as before, for every other client.

The API (on the blobs' origin):

- `OPTIONS /upload`: `Accept-Patch: application/partial-upload`, `Upload-Limit: max-size=<bytes>`.
- `PUT /upload` with `Upload-Complete: ?0|?1`, `Upload-Length: <bytes>` (or `Upload-Complete: ?1` and
  `Content-Length`), `X-SHA-256: <the whole blob's sha256>` (or the auth event's one `x` tag), `Content-Type:
  <the blob's type>`, `Authorization: Nostr <kind 24242, t=upload, x=sha256>`: creates the upload resource, an
  unguessable URL. With content, a `104 (Upload Resumption Supported)` interim response gives its `Location` at
  once; the content is appended. Final answer: `201` with `Location`, `Upload-Offset`, `Upload-Complete: ?0`,
  `Upload-Limit`; or, when the request carried the whole blob, the BUD-02 answer (below).
- `HEAD <Location>`: `204` with `Upload-Offset`, `Upload-Complete`, `Upload-Length`, `Upload-Limit`,
  `Cache-Control: no-store`.
- `PATCH <Location>` with `Content-Type: application/partial-upload`, `Upload-Offset: <the server's offset>`,
  `Upload-Complete: ?0|?1`: appends. `204` with `Upload-Offset`, `Upload-Complete: ?0`; a wrong offset `409` with
  the right one in `Upload-Offset`. The request that completes the upload gets the BUD-02 answer: `201` (or `200`
  when the blob was already here) with the blob descriptor and `Upload-Complete: ?1`; bytes whose sha256 is not the
  declared one `422` with `Upload-Complete: ?1` (the upload is deleted: start again).
- `DELETE <Location>`: `204`; the upload and its bytes are gone.

Every request to the upload resource carries the same kind of auth (t=upload, x=the declared sha256) from the key
that created it (the creation's event may be reused until it expires); another key gets 403. A request while an
append is still running on the same upload ends that append first (its connection is closed; what it had written
stays), as the draft recommends: a phone that lost its connection comes back before the server notices.

State: a row per upload in the database (bridge.db: who, the declared blob, the bytes acknowledged, expiry) and
its bytes in `<data_dir>/uploads/<id>.part`, so an upload survives a restart of the Bridge. The offset is the part
file's size (a crash of the process loses no byte written; the sha256 check at the end catches any other damage);
acknowledged bytes are fsynced first. The sha256 is computed as bytes arrive; after a restart it is computed again
from the part file, streaming, before the first append. An upload not appended to for `upload_ttl` seconds
expires: its row and part file are deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from asknostr.nip01 import Event, is_hex64
from bridge import upload_fields as fields
from bridge.blob_store import Received
from bridge.db import BlobRow, UploadRow
from bridge.errors import BridgeError
from bridge.leases import Member
from bridge.nostr_auth import authorize, require_x, tag_values
from bridge.storage import Storage

log = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)
"""`secrets.token_urlsafe(32)`: 256 random bits, the upload resource's unguessable name."""
CHUNK = 64 * 1024
WRITE_BATCH = 1024 * 1024
"""Bytes gathered before one write to the part file: fewer thread hops, at most this much held in memory."""
HASH_READ = 1024 * 1024
MAX_OPEN_PER_KEY = 16
"""Unfinished uploads one key may have at once: each holds disk space until it finishes or expires."""


def _open_append(path: Path) -> BinaryIO:
    return path.open("ab")


def _sync_close(file: BinaryIO) -> None:
    try:
        file.flush()
        os.fsync(file.fileno())
    finally:
        file.close()


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _rehash(path: Path, size: int) -> hashlib._Hash:
    """The sha256 of the part file's first `size` bytes, read in slices (never the whole file in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        left = size
        while left > 0:
            block = file.read(min(HASH_READ, left))
            if not block:
                raise OSError(f"{path} ended before {size} bytes")
            digest.update(block)
            left -= len(block)
    return digest


@dataclass
class Sink:
    """An upload's part file and its running sha256, as far as `offset`."""

    offset: int
    digest: hashlib._Hash

    def write(self, file: BinaryIO, data: bytes) -> None:
        file.write(data)
        self.digest.update(data)  # hashlib releases the GIL for large buffers: this runs in a thread
        self.offset += len(data)


LOCK_WAIT = 0.25  # seconds between looks for an append to end, while waiting for an upload


@dataclass
class Slot:
    """What one upload's requests share in this process: one at a time (`lock`), the request appending now (so that
    the next can end it) and the running hash (None until first needed after a start)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    writer: web.BaseRequest | None = None
    sink: Sink | None = None


class UploadGone(Exception):
    """The upload is not there (never was, finished long ago, expired, cancelled, or its bytes were lost)."""


class ResumableUploads:
    """The upload resources: their rows in the database, their part files and the HTTP handlers."""

    def __init__(self, storage: Storage, ttl: float, member: Member | None = None) -> None:
        self.storage = storage
        self.ttl = ttl
        self.member = member or Member()
        """This instance: an upload's part file is on the disk of the instance that took it."""
        self.dir = storage.data_dir / "uploads"
        self._slots: dict[str, Slot] = {}
        self._sweeper: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def open(self, sweep_interval: float | None = None) -> None:
        """Check what a restart left (part files without a row, rows whose bytes are lost), expire what is due,
        and sweep expired uploads every `sweep_interval` seconds (default: a tenth of their lifetime, at most 10
        minutes; 0: never)."""
        await asyncio.to_thread(self.dir.mkdir, parents=True, exist_ok=True)
        await self._recover()
        await self.sweep()
        interval = min(600.0, self.ttl / 10) if sweep_interval is None else sweep_interval
        if interval > 0:
            self._sweeper = asyncio.create_task(self._sweep_every(interval))

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def _sweep_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:  # the next sweep tries again; a failure is logged, never fatal
                log.exception("sweeping expired uploads failed")

    async def _recover(self) -> None:
        rows = await self._drop_orphan_parts()
        for row in rows.values():
            if row.complete:
                continue
            size = await asyncio.to_thread(_size, self.part(row.id))
            if size is None or size < row.acked or size > row.length:
                log.warning("upload %s lost its bytes (%s on disk, %d acknowledged): deleted", row.id, size, row.acked)
                await self._delete(row.id)

    async def _drop_orphan_parts(self, grace: float = 0) -> dict[str, UploadRow]:
        """Delete the part files here that no upload of this instance names, but those younger than `grace`
        seconds (an upload being created has its file a moment before its row); this instance's uploads, by id."""
        rows = {row.id: row for row in await self.storage.db.uploads(self.member.name)}

        def orphans() -> list[Path]:
            now = time.time()
            found = []
            for path in self.dir.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    orphan = path.stem not in rows or path.suffix != ".part"
                    if orphan and now - path.stat().st_mtime >= grace:
                        found.append(path)
            return found

        for path in await asyncio.to_thread(orphans):
            await asyncio.to_thread(path.unlink, missing_ok=True)
        return rows

    async def sweep(self) -> int:
        """Delete the uploads past their expiry, rows and part files (of any instance: the others' part files go
        at their own next sweep); how many."""
        expired = await self.storage.db.expired_uploads(self._now())
        for upload_id in expired:
            slot = self._slots.get(upload_id)
            if slot is not None and slot.lock.locked():
                continue  # being appended to right now: not abandoned (its expiry moves when the append ends)
            await self._delete(upload_id)
        await self._drop_orphan_parts(grace=60)
        return len(expired)

    # --- state -----------------------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.storage.clock())

    def part(self, upload_id: str) -> Path:
        return self.dir / f"{upload_id}.part"

    def location(self, upload_id: str) -> str:
        return f"{self.storage.media_url.rstrip('/')}/upload/{upload_id}"

    def _limit(self, row: UploadRow | None = None) -> str:
        return fields.limit(self.storage.max_upload_bytes, None if row is None else row.expires - self._now())

    def options_headers(self) -> dict[str, str]:
        """What `OPTIONS /upload` tells a client that looks for resumable uploads."""
        return {"Accept-Patch": fields.PARTIAL_UPLOAD, "Upload-Limit": self._limit()}

    async def _delete(self, upload_id: str) -> None:
        await self.storage.db.delete_upload(upload_id)
        await asyncio.to_thread(self.part(upload_id).unlink, missing_ok=True)
        self._slots.pop(upload_id, None)

    async def _row(self, upload_id: str) -> UploadRow:
        """The live upload named by the URL; UploadGone when there is none (an expired one is deleted now)."""
        if ID_PATTERN.fullmatch(upload_id) is None:
            raise UploadGone
        row = await self.storage.db.get_upload(upload_id)
        if row is None:
            raise UploadGone
        if row.expires <= self._now():
            await self._delete(upload_id)
            raise UploadGone
        return row

    @contextlib.asynccontextmanager
    async def _exclusive(self, upload_id: str) -> AsyncIterator[Slot]:
        """The upload to oneself: an append still running on it is ended first (its connection closed: the draft's
        recommended answer to a client that gave up on a request the server still sees)."""
        slot = self._slots.setdefault(upload_id, Slot())
        while True:
            # looked at again while waiting: the request holding the upload may only now begin reading its body
            writer = slot.writer
            if writer is not None and writer.transport is not None:
                writer.transport.close()
            try:
                await asyncio.wait_for(slot.lock.acquire(), LOCK_WAIT)
                break
            except TimeoutError:
                continue
        try:
            yield slot
        finally:
            slot.lock.release()

    async def _sink(self, slot: Slot, row: UploadRow) -> Sink:
        """The running hash as far as the part file goes: kept from the last append, else read again (a restart)."""
        size = await asyncio.to_thread(_size, self.part(row.id))
        if size is None or size < row.acked or size > row.length:
            await self._delete(row.id)
            raise BridgeError(410, "This upload's bytes were lost: start it again")
        if slot.sink is None or slot.sink.offset != size:
            slot.sink = Sink(size, await asyncio.to_thread(_rehash, self.part(row.id), size))
        return slot.sink

    # --- requests --------------------------------------------------------------------------------------------

    def _authorize(self, request: web.Request, sha256: str | None) -> Event:
        header = request.headers.get("Authorization")
        storage = self.storage
        return authorize(header, "upload", now=storage.clock(), sha256=sha256, server=storage.media_server)

    async def _owned(self, request: web.Request) -> UploadRow:
        """The upload named by the URL, if the request's auth is its creator's."""
        event = self._authorize(request, None)  # who asks, before saying whether the upload exists
        try:
            row = await self._row(request.match_info["id"])
        except UploadGone:
            raise BridgeError(404, "No such upload: it finished, expired or was cancelled") from None
        require_x(event, row.sha256)
        if event["pubkey"] != row.pubkey:
            raise BridgeError(403, "Only the key that started this upload can continue, see or cancel it")
        return row

    async def _elsewhere(self, row: UploadRow) -> bool:
        """Whether `row`'s bytes are on another instance of the fleet that is alive. When that instance stopped
        (it has not renewed its leases for a lease's time), the upload is gone with its disk: deleted, and 410."""
        if row.complete or row.instance == self.member.name:
            return False
        seen = await self.storage.db.instance_seen(row.instance)
        if seen is not None and self._now() - seen <= self.member.lease_ttl:
            return True
        await self.storage.db.delete_upload(row.id)
        raise BridgeError(410, "This upload's bytes were on an instance of the Bridge that stopped: start it again")

    def _state_headers(self, row: UploadRow, offset: int, complete: bool) -> dict[str, str]:
        return {
            "Upload-Offset": str(offset),
            "Upload-Complete": fields.sf_boolean(complete),
            "Upload-Length": str(row.length),
            "Upload-Limit": self._limit(row),
            "Cache-Control": "no-store",
        }

    async def create(self, request: web.Request, media_type: str) -> web.StreamResponse:
        """`PUT /upload` with `Upload-Complete`: a new upload resource for a blob of `media_type`, and the request's
        content appended."""
        storage = self.storage
        complete = fields.boolean(request.headers.getall("Upload-Complete", []))
        assert complete is not None  # routed here only when the field is there and valid
        declared = request.headers.get("X-SHA-256")
        if declared is not None and not is_hex64(declared):
            raise BridgeError(400, "X-SHA-256 must be 64 lowercase hex")
        event = self._authorize(request, declared)
        if declared is None:
            hashes = tag_values(event, "x")
            if len(hashes) != 1 or not is_hex64(hashes[0]):
                raise BridgeError(400, "Missing X-SHA-256 header: a resumable upload names its blob's sha256 first")
            declared = hashes[0]
        length = fields.declared_length(
            fields.integer(request.headers.getall("Upload-Length", [])), complete, request.content_length, 0
        )
        if length is None:
            raise BridgeError(400, "Missing Upload-Length header: a resumable upload declares its size first")
        if length > storage.max_upload_bytes:
            raise BridgeError(
                413,
                f"File too large. Max allowed size is {storage.max_upload_bytes} bytes",
                {"Upload-Limit": self._limit()},
            )
        if request.content_length is not None and request.content_length > length:
            raise BridgeError(400, f"The request's content is longer than the upload's length of {length} bytes")
        now = self._now()
        if await storage.db.open_uploads(event["pubkey"], now) >= MAX_OPEN_PER_KEY:
            raise BridgeError(429, f"Too many unfinished uploads ({MAX_OPEN_PER_KEY}): finish or cancel one first")
        upload_id = secrets.token_urlsafe(32)
        expires = now + int(self.ttl)
        row = UploadRow(
            upload_id, event["pubkey"], declared, length, media_type, 0, False, now, expires, self.member.name
        )
        await asyncio.to_thread(self.part(upload_id).touch, exist_ok=False)
        await storage.db.add_upload(row)
        if request.body_exists and request.version >= (1, 1):
            # the interim answer: the client can resume from here even if this request is cut off
            interim = f"HTTP/1.1 104 Upload Resumption Supported\r\nLocation: {self.location(upload_id)}\r\n"
            await request.writer.write(f"{interim}Upload-Limit: {self._limit(row)}\r\n\r\n".encode())
        async with self._exclusive(upload_id) as slot:
            return await self._append(request, slot, row, complete, created=True)

    async def head(self, request: web.Request) -> web.Response:
        """`HEAD /upload/<id>`: the offset to continue from."""
        row = await self._owned(request)
        if row.complete:
            return web.Response(status=204, headers=self._state_headers(row, row.length, True))
        if await self._elsewhere(row):  # what it acknowledged is on its disk, synced
            return web.Response(status=204, headers=self._state_headers(row, row.acked, False))
        async with self._exclusive(row.id):
            row = await self._row(row.id)
            size = await asyncio.to_thread(_size, self.part(row.id))
            if size is None or size < row.acked:
                await self._delete(row.id)
                raise BridgeError(410, "This upload's bytes were lost: start it again")
            return web.Response(status=204, headers=self._state_headers(row, size, False))

    async def patch(self, request: web.Request) -> web.StreamResponse:
        """`PATCH /upload/<id>`: the next bytes, at the server's offset."""
        if not fields.content_type_is_partial(request.headers):
            raise BridgeError(415, f"Content-Type must be {fields.PARTIAL_UPLOAD}")
        offset = fields.integer(request.headers.getall("Upload-Offset", []))
        if offset is None:
            raise BridgeError(400, "Upload-Offset must be one non-negative integer (the server's offset: HEAD)")
        complete = fields.boolean(request.headers.getall("Upload-Complete", []))
        if complete is None:
            raise BridgeError(400, "Upload-Complete must be ?0 or ?1")
        row = await self._owned(request)
        if row.complete:
            raise BridgeError(400, "This upload is already complete", {"Upload-Complete": "?1"})
        if await self._elsewhere(row):
            reason = "This upload goes on through another instance of the Bridge, which holds its bytes: try again"
            raise BridgeError(503, reason, {"Retry-After": "1"})
        async with self._exclusive(row.id) as slot:
            row = await self._row(row.id)
            sink = await self._sink(slot, row)
            if offset != sink.offset:
                raise BridgeError(
                    409,
                    f"Upload-Offset is {offset} but the upload is at {sink.offset}: continue from there",
                    {"Upload-Offset": str(sink.offset), "Upload-Complete": "?0"},
                )
            upload_length = fields.integer(request.headers.getall("Upload-Length", []))
            if upload_length is not None and upload_length != row.length:
                raise BridgeError(400, f"Inconsistent upload length: this upload is {row.length} bytes")
            if request.content_length is not None:
                end = offset + request.content_length
                if end > row.length:
                    raise BridgeError(400, f"The content would take the upload past its length of {row.length} bytes")
                if complete and end != row.length:
                    raise BridgeError(400, f"Inconsistent upload length: it would end at {end} bytes, not {row.length}")
            return await self._append(request, slot, row, complete, created=False)

    async def delete(self, request: web.Request) -> web.Response:
        """`DELETE /upload/<id>`: the upload is cancelled, its bytes deleted."""
        row = await self._owned(request)
        async with self._exclusive(row.id):
            await self._delete(row.id)
        return web.Response(status=204)

    # --- appending ---------------------------------------------------------------------------------------------

    async def _append(
        self, request: web.Request, slot: Slot, row: UploadRow, complete: bool, *, created: bool
    ) -> web.StreamResponse:
        """Stream the request's content onto the part file (hashing it), acknowledge what was written, and finish
        the upload when the request says it is the last."""
        slot.writer = request  # from now on, the next request to this upload ends this one first
        sink = await self._sink(slot, row)
        try:
            cut = await self._receive(request, sink, row)
        finally:
            slot.writer = None
            await self.storage.db.ack_upload(row.id, sink.offset, self._now() + int(self.ttl))
        if cut is not None:
            raise BridgeError(400, f"The upload's content was cut off ({cut}); continue from its offset (HEAD)")
        if complete:
            if sink.offset != row.length:
                raise BridgeError(
                    400,
                    f"Inconsistent upload length: the upload ended at {sink.offset} bytes, not {row.length}",
                    {"Upload-Offset": str(sink.offset), "Upload-Complete": "?0"},
                )
            return await self._finish(row, sink)
        headers = {"Upload-Offset": str(sink.offset), "Upload-Complete": "?0"}
        if created:
            location = self.location(row.id)
            return web.Response(status=201, headers={**headers, "Location": location, "Upload-Limit": self._limit(row)})
        return web.Response(status=204, headers=headers)

    async def _receive(self, request: web.Request, sink: Sink, row: UploadRow) -> str | None:
        """Append the content; what cut it off (a lost connection, a broken body), or None when it all came."""
        file = await asyncio.to_thread(_open_append, self.part(row.id))
        batch = bytearray()
        pending: asyncio.Future[None] | None = None
        loop = asyncio.get_running_loop()
        cut: str | None = None

        async def flush() -> None:
            nonlocal pending
            if batch:
                data = bytes(batch)
                batch.clear()
                pending = loop.run_in_executor(None, sink.write, file, data)
                # shielded: a cancelled request still lets the write finish before the file is synced and closed
                await asyncio.shield(pending)

        try:
            try:
                async for chunk in request.content.iter_chunked(CHUNK):
                    if sink.offset + len(batch) + len(chunk) > row.length:
                        await flush()
                        await self._invalidate(row, file)
                        raise BridgeError(
                            400, f"The content went past the upload's length of {row.length} bytes: upload deleted"
                        )
                    batch += chunk
                    if len(batch) >= WRITE_BATCH:
                        await flush()
                await flush()
            except (OSError, HttpProcessingError) as exc:  # the client went away, or sent a broken body
                cut = type(exc).__name__
                await flush()  # what arrived whole is kept: the client resumes after it
        finally:
            if pending is not None:
                await asyncio.wait([pending])
            if not file.closed:
                await asyncio.shield(loop.run_in_executor(None, _sync_close, file))
        return cut

    async def _invalidate(self, row: UploadRow, file: BinaryIO) -> None:
        await asyncio.to_thread(file.close)
        await self._delete(row.id)

    async def _finish(self, row: UploadRow, sink: Sink) -> web.Response:
        """The whole upload is here: it becomes the blob if its sha256 is the declared one."""
        storage = self.storage
        actual = sink.digest.hexdigest()
        done = {"Upload-Complete": "?1"}
        if actual != row.sha256:
            await self._delete(row.id)
            raise BridgeError(
                422, f"The uploaded bytes' sha256 is {actual}, not the declared {row.sha256}: upload deleted", done
            )
        now = self._now()
        blob = BlobRow(row.sha256, row.length, row.type, now)
        received = Received(self.part(row.id), actual, row.length)
        await storage.store.prepare(received)
        async with storage.blob_lock(row.sha256):
            await storage.store.commit(received)
            created = await storage.db.add_blob(blob, row.pubkey, now)
            stored = blob if created else (await storage.db.get_blob(row.sha256) or blob)
        # kept a while as complete, so that a client that missed this answer learns it from HEAD
        await storage.db.complete_upload(row.id, now + int(self.ttl))
        self._slots.pop(row.id, None)
        return web.json_response(storage.descriptor(stored), status=201 if created else 200, headers=done)


UPLOADS_KEY = web.AppKey("uploads", ResumableUploads)


def wants_resumable(request: web.Request) -> bool:
    """A `PUT /upload` that asks for a resumable upload: a valid `Upload-Complete` (the draft ignores an invalid
    one: that request is a plain BUD-02 upload)."""
    return fields.boolean(request.headers.getall("Upload-Complete", [])) is not None


async def _head(request: web.Request) -> web.StreamResponse:
    return await request.app[UPLOADS_KEY].head(request)


async def _patch(request: web.Request) -> web.StreamResponse:
    return await request.app[UPLOADS_KEY].patch(request)


async def _delete_route(request: web.Request) -> web.StreamResponse:
    return await request.app[UPLOADS_KEY].delete(request)


def add_resumable_routes(app: web.Application, uploads: ResumableUploads) -> None:
    """The upload resources' routes (their creation is `PUT /upload`, routed by bridge.blossom)."""
    app[UPLOADS_KEY] = uploads
    app.router.add_route("HEAD", "/upload/{id}", _head)
    app.router.add_route("PATCH", "/upload/{id}", _patch)
    app.router.add_route("DELETE", "/upload/{id}", _delete_route)
