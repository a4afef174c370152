"""Content-addressed blob files under `<data_dir>/blobs/`: `blobs/ab/abcdef…` (the sha256, sharded by its first byte).

Uploads stream into `blobs/.tmp/` while being hashed and counted (never the whole body in memory), then move into
place with an atomic rename, so a blob's path only ever holds its complete, verified content.

`BlobStore` keeps blobs on this disk (the default); `bridge.s3_blobs.S3Blobs` keeps them in S3 object storage,
shared by a fleet of Bridges, with these files as each instance's cache. Both answer the same methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol


class TooLarge(Exception):
    """The body exceeded the size limit (the partial file is already removed)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Blob exceeds the size limit of {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class Received:
    """An upload written to a temporary file: its hash and size, not yet in place."""

    path: Path
    sha256: str
    size: int


def _open_new(path: Path) -> BinaryIO:
    return path.open("xb")


def _finish(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())
    file.close()


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


class Chunks(Protocol):
    """A blob's bytes as they are read: iterated, then closed (also when never iterated: the reader is let go)."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class BlobMissing(LookupError):
    """No blob with that sha256 is stored (anywhere)."""


class BlobStore:
    """Blobs on this disk."""

    shared = False
    """Whether other instances reach the same blobs (then the files here are only a cache)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / ".tmp"

    async def setup(self) -> None:
        """Create the directories and drop the leftovers of uploads cut short by a crash."""

        def setup() -> None:
            self.tmp.mkdir(parents=True, exist_ok=True)
            for leftover in self.tmp.iterdir():
                leftover.unlink(missing_ok=True)

        await asyncio.to_thread(setup)

    async def close(self) -> None:
        return None

    def path(self, sha256: str) -> Path:
        """Where this disk keeps (or would keep) the blob's file."""
        return self.root / sha256[:2] / sha256

    def cached(self) -> dict[str, float]:
        """The blobs with a file here, and when each was written (seconds since the epoch)."""
        files: dict[str, float] = {}
        for path in self.root.glob("??/*"):
            with contextlib.suppress(FileNotFoundError):
                files[path.name] = path.stat().st_mtime
        return files

    def local(self, sha256: str) -> Path | None:
        """The blob's file on this disk, if it is here now."""
        path = self.path(sha256)
        return path if path.is_file() else None

    async def exists(self, sha256: str) -> bool:
        """Whether the blob is stored (here, or in the shared store)."""
        return await asyncio.to_thread(self.local, sha256) is not None

    async def local_copy(self, sha256: str) -> Path | None:
        """A file of the blob on this disk (libtorrent seeds and checks files), fetched from the shared store if
        need be; None when it is stored nowhere."""
        return await asyncio.to_thread(self.local, sha256)

    async def stream(self, sha256: str, first: int, last: int) -> Chunks:
        """Bytes `first` to `last` (inclusive) of the blob, in chunks; BlobMissing (before any chunk) when absent.
        Awaiting it opens the blob; iterating reads it."""
        path = self.local(sha256)
        if path is None:
            raise BlobMissing(sha256)
        return _read_file(path, first, last)

    async def drop_local(self, sha256: str) -> None:
        """Forget this instance's cache copy (the shared store keeps the blob); nothing to do on disk alone."""
        return None

    async def receive(self, chunks: AsyncIterable[bytes], max_bytes: int) -> Received:
        """Stream chunks into a temporary file, hashing them; `TooLarge` as soon as they pass `max_bytes`."""
        path = self.tmp / uuid.uuid4().hex
        digest = hashlib.sha256()
        size = 0
        file = await asyncio.to_thread(_open_new, path)
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(max_bytes)
                digest.update(chunk)
                await asyncio.to_thread(file.write, chunk)
            await asyncio.to_thread(_finish, file)
        except BaseException:
            file.close()
            await asyncio.to_thread(_unlink, path)
            raise
        return Received(path, digest.hexdigest(), size)

    async def prepare(self, received: Received) -> None:
        """What of `commit` may take long and needs no lock (the object store's upload); nothing on disk."""
        return None

    async def discard(self, received: Received) -> None:
        await asyncio.to_thread(_unlink, received.path)

    async def commit(self, received: Received) -> None:
        """Move a received file into place under its hash (an existing copy is kept; both are the same bytes)."""
        target = self.path(received.sha256)

        def move() -> None:
            if target.is_file():
                received.path.unlink(missing_ok=True)
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(received.path, target)

        await asyncio.to_thread(move)

    async def delete(self, sha256: str) -> None:
        """Delete the blob (everywhere this store keeps it)."""
        await asyncio.to_thread(_unlink, self.path(sha256))


READ_CHUNK = 256 * 1024


async def _read_file(path: Path, first: int, last: int) -> AsyncGenerator[bytes, None]:
    file = await asyncio.to_thread(path.open, "rb")
    try:
        await asyncio.to_thread(file.seek, first)
        left = last - first + 1
        while left > 0:
            chunk = await asyncio.to_thread(file.read, min(READ_CHUNK, left))
            if not chunk:
                raise BlobMissing(path.name)  # shortened underneath us
            left -= len(chunk)
            yield chunk
    finally:
        file.close()
