"""The shared services a fleet of Bridges keeps its state in, for the tests: a real PostgreSQL and a real
SeaweedFS (S3), one of each per run (the session fixtures in tests/conftest.py), and fresh databases and buckets
in them; `BridgeBackend` says which of them a Bridge under test uses."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import boto3
import pytest

from bridge.config import BridgeConfig
from devstack.services import LOCAL_S3_CREDENTIALS, Service
from tests.async_runner import run

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_numbers = itertools.count(1)


def _unique(prefix: str) -> str:
    """A name no other test of this run (nor of another run on this machine) uses."""
    return f"{prefix}{os.getpid()}-{next(_numbers)}"


@dataclass
class PostgresServer:
    service: Service

    @property
    def url(self) -> str:
        """The server's own `postgres` database."""
        return self.service.url

    def url_of(self, name: str) -> str:
        return self.service.url.rsplit("/", 1)[0] + "/" + name

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        name = _unique("bridge_").replace("-", "_")

        async def create() -> None:
            conn = await asyncpg.connect(self.url)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        run(create())
        return self.url_of(name)


@dataclass
class ObjectStore:
    service: Service

    @property
    def url(self) -> str:
        """The S3 endpoint."""
        return self.service.url

    def client(self) -> S3Client:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=LOCAL_S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def keys(self, bucket: str) -> list[str]:
        """The keys in `bucket` (the blobs' sha256s)."""
        client = self.client()
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        finally:
            client.close()

    @staticmethod
    def new_bucket() -> str:
        """A bucket name of its own (the Bridge creates the bucket)."""
        return _unique("blobs-")


@dataclass
class BridgeBackend:
    """Where a Bridge under test keeps its state: SQLite and its disk (`local`), or PostgreSQL and S3 (`fleet`)."""

    name: str
    database_url: str = ""
    s3_endpoint: str = ""
    s3_bucket: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def in_process(self, data_dir: Path, monkeypatch: pytest.MonkeyPatch, **fields: Any) -> BridgeConfig:
        """The config of a Bridge in the test process on these services (their S3 credentials put in the
        environment, where its boto3 reads them), with `fields` more."""
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)
        return BridgeConfig(
            data_dir=data_dir,
            database_url=self.database_url,
            s3_endpoint=self.s3_endpoint,
            s3_bucket=self.s3_bucket,
            **fields,
        )

    def args(self) -> tuple[str, ...]:
        """The Bridge's command-line flags."""
        flags: tuple[str, ...] = ("--database-url", self.database_url) if self.database_url else ()
        if self.s3_endpoint:
            flags += ("--s3-endpoint", self.s3_endpoint, "--s3-bucket", self.s3_bucket)
        return flags


def fleet_backend(postgres: PostgresServer, store: ObjectStore) -> BridgeBackend:
    """A new database and a new bucket, for Bridges that share them."""
    return BridgeBackend("fleet", postgres.new_database(), store.url, store.new_bucket(), dict(LOCAL_S3_CREDENTIALS))
