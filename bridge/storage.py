"""What the Bridge's parts share about stored media: the blob files, the database, the lock held from a blob's check
to its use, and the public URLs. Built once in `make_app`, passed to Blossom, the bootstrap ping and the swarm
keeper; opened and closed with the app."""

from __future__ import annotations

import contextlib
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bridge.blob_store import BlobStore
from bridge.db import BlobRow, Database
from bridge.s3_blobs import S3Blobs


class StorageClosed(RuntimeError):
    """The database was used before the app started or after it stopped (a bug, not a client's doing)."""


@dataclass
class Storage:
    data_dir: Path
    app_url: str
    """The PWA's and the API's base URL (NIP-98 requests are signed for it)."""
    media_url: str
    """The blobs' own origin: Blossom's base URL, never the app's origin."""
    max_upload_bytes: int
    clock: Callable[[], float] = time.time
    database_url: str = field(default="", repr=False)
    """PostgreSQL's (a fleet's shared state); empty: SQLite in data_dir."""
    s3_endpoint: str = ""
    """The S3 object store of a fleet's blobs; empty: blobs on this disk."""
    s3_bucket: str = "asknostr-blobs"
    s3_region: str = "us-east-1"
    store: BlobStore = field(init=False)
    _db: Database | None = None

    def __post_init__(self) -> None:
        root = self.data_dir / "blobs"
        self.store = (
            S3Blobs(root, self.s3_endpoint, self.s3_bucket, self.s3_region) if self.s3_endpoint else BlobStore(root)
        )

    async def open(self) -> None:
        await self.store.setup()
        self._db = await Database.open(self.data_dir, self.database_url)

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()
        await self.store.close()

    @property
    def db(self) -> Database:
        if self._db is None:
            raise StorageClosed("the Bridge's database is not open")
        return self._db

    def blob_lock(self, sha256: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held from a blob's check to its use, by one task in the whole fleet at a time: no DELETE nor handoff
        removes a blob an upload is recording or a ping is about to seed."""
        return self.db.sql.lock(f"blob:{sha256}")

    async def delete_blob_file(self, sha256: str) -> None:
        """Delete a blob's file (object and copies) that the database owes a deletion, and clear the debt (under the
        blob's lock). A failure leaves the debt for the lease rounds to settle."""
        await self.store.delete(sha256)
        await self.db.deletion_done(sha256)

    @property
    def media_server(self) -> str | None:
        """The blobs' domain, as BUD-11 `server` tags name it."""
        return urlsplit(self.media_url).hostname

    def blob_url(self, sha256: str, media_type: str) -> str:
        ext = mimetypes.guess_extension(media_type, strict=False) or ".bin"
        return f"{self.media_url.rstrip('/')}/{sha256}{ext}"

    def descriptor(self, blob: BlobRow) -> dict[str, object]:
        """A BUD-02 blob descriptor."""
        return {
            "url": self.blob_url(blob.sha256, blob.type),
            "sha256": blob.sha256,
            "size": blob.size,
            "type": blob.type,
            "uploaded": blob.uploaded,
        }
