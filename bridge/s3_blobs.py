"""Blobs in S3-compatible object storage (SeaweedFS, MinIO, AWS…), shared by a fleet of Bridges.

The object store holds every blob, under its sha256, and is the truth; each instance's `<data_dir>/blobs/` is only
a cache of the blobs it seeds (libtorrent needs files) or has just received. An upload is staged on disk while it
is hashed, put into the bucket, then kept as a cache copy; a GET from an instance without a copy streams from the
bucket, one Range for one Range. boto3 does the talking (its calls run in threads): multipart for large files.

Credentials come the way every AWS tool reads them: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or
~/.aws/credentials.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import boto3
import botocore.config
import botocore.exceptions
from boto3.exceptions import S3UploadFailedError

from bridge.blob_store import READ_CHUNK, BlobMissing, BlobStore, Chunks, Received
from bridge.errors import BridgeError

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef

log = logging.getLogger(__name__)

T = TypeVar("T")

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


class ObjectStoreUnavailable(BridgeError):
    """The object store did not answer (or refused us): the request can be tried again later."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, f"the Bridge's object store is unreachable for now ({detail}); try again shortly")


def _missing(exc: botocore.exceptions.ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _NOT_FOUND


class S3Blobs(BlobStore):
    shared = True

    def __init__(self, root: Path, endpoint: str, bucket: str, region: str = "us-east-1") -> None:
        super().__init__(root)
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        self._client: S3Client | None = None

    @property
    def client(self) -> S3Client:
        if self._client is None:
            raise RuntimeError("the object store is not set up")
        return self._client

    async def _call(self, what: str, call: Callable[[], T]) -> T:
        """A boto3 call in a thread (a "not found" is the call's to answer); ObjectStoreUnavailable when the store
        cannot be reached, times out, or refuses (its 5xx, SlowDown, a 403 from wrong credentials)."""
        try:
            return await asyncio.to_thread(call)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, S3UploadFailedError) as exc:
            log.warning("object store: %s failed: %s", what, exc)
            raise ObjectStoreUnavailable(type(exc).__name__) from None

    async def setup(self) -> None:
        await super().setup()
        config = botocore.config.Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            s3={"addressing_style": "path"},  # a bucket in the path: no DNS name per bucket (SeaweedFS, MinIO)
            max_pool_connections=32,
        )
        self._client = boto3.client("s3", endpoint_url=self.endpoint, region_name=self.region, config=config)
        client = self._client

        def ensure_bucket() -> None:
            try:
                client.head_bucket(Bucket=self.bucket)
            except botocore.exceptions.ClientError as exc:
                if not _missing(exc):
                    raise
                try:
                    client.create_bucket(Bucket=self.bucket)
                except botocore.exceptions.ClientError as race:  # another Bridge made it first
                    code = str(race.response.get("Error", {}).get("Code", ""))
                    if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

        await self._call("creating the bucket", ensure_bucket)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.close)

    async def prepare(self, received: Received) -> None:
        """Put the received file into the bucket, unless it is there already (outside the blob's lock: minutes
        for a large file)."""
        client = self.client

        def put() -> None:
            try:
                client.head_object(Bucket=self.bucket, Key=received.sha256)
                return  # content-addressed: the same key holds the same bytes
            except botocore.exceptions.ClientError as exc:
                if not _missing(exc):
                    raise
            client.upload_file(str(received.path), self.bucket, received.sha256)

        await self._call("storing a blob", put)

    async def commit(self, received: Received) -> None:
        """Make sure the bucket has the file (a DELETE may have removed it since `prepare`), then keep it as a cache
        copy."""
        await self.prepare(received)
        await super().commit(received)

    async def exists(self, sha256: str) -> bool:
        if self.local(sha256) is not None:
            return True
        client = self.client

        def head() -> bool:
            try:
                client.head_object(Bucket=self.bucket, Key=sha256)
            except botocore.exceptions.ClientError as exc:
                if _missing(exc):
                    return False
                raise
            return True

        return await self._call("looking for a blob", head)

    async def local_copy(self, sha256: str) -> Path | None:
        """The cache copy, downloaded from the bucket (and its sha256 checked) when this instance has none."""
        path = self.local(sha256)
        if path is not None:
            return path
        staged = self.tmp / f"fetch-{sha256}-{id(asyncio.current_task())}"
        client = self.client

        def download() -> str | None:
            try:
                client.download_file(self.bucket, sha256, str(staged))
            except botocore.exceptions.ClientError as exc:
                if _missing(exc):
                    return None
                raise
            digest = hashlib.sha256()
            with staged.open("rb") as file:
                while chunk := file.read(1024 * 1024):
                    digest.update(chunk)
            return digest.hexdigest()

        try:
            actual = await self._call("fetching a blob", download)
            if actual is None:
                return None
            if actual != sha256:  # the bucket's copy is damaged: never seed or serve it as this blob
                log.error("object store: blob %s came back as %s; not used", sha256, actual)
                return None
            await super().commit(Received(staged, sha256, staged.stat().st_size))
        finally:
            staged.unlink(missing_ok=True)
        return self.local(sha256)

    async def stream(self, sha256: str, first: int, last: int) -> Chunks:
        if self.local(sha256) is not None:
            return await super().stream(sha256, first, last)
        client = self.client

        def get() -> GetObjectOutputTypeDef | None:
            try:
                return client.get_object(Bucket=self.bucket, Key=sha256, Range=f"bytes={first}-{last}")
            except botocore.exceptions.ClientError as exc:
                if _missing(exc):
                    return None
                raise

        answer = await self._call("reading a blob", get)
        if answer is None:
            raise BlobMissing(sha256)
        return _ObjectChunks(self, answer["Body"])

    async def drop_local(self, sha256: str) -> None:
        await super().delete(sha256)

    async def delete(self, sha256: str) -> None:
        """Delete the object (S3 answers a deleted or absent key alike) and this instance's copy."""
        client = self.client
        await self._call("deleting a blob", lambda: client.delete_object(Bucket=self.bucket, Key=sha256))
        await super().delete(sha256)


class _ObjectChunks:
    """An object's body, read in READ_CHUNK slices in threads; closing it lets its connection go."""

    def __init__(self, store: S3Blobs, body: StreamingBody) -> None:
        self._store = store
        self._body = body

    def __aiter__(self) -> _ObjectChunks:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._store._call("reading a blob", lambda: self._body.read(READ_CHUNK))
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        await asyncio.to_thread(self._body.close)
