"""Content-addressed blob files under `<data_dir>/blobs/`: `blobs/ab/abcdef…` (the sha256, sharded by its first byte).

Uploads stream into `blobs/.tmp/` while being hashed and counted (never the whole body in memory), then move into
place with an atomic rename, so a blob's path only ever holds its complete, verified content.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


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


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / ".tmp"

    def setup(self) -> None:
        """Create the directories and drop the leftovers of uploads cut short by a crash."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        for leftover in self.tmp.iterdir():
            leftover.unlink(missing_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

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
        await asyncio.to_thread(_unlink, self.path(sha256))
