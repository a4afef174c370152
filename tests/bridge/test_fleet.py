"""Three Bridge processes sharing one PostgreSQL and one S3 bucket (SeaweedFS): what one instance stores, every
instance serves."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.services import Service, free_port, start_bridge
from tests.backends import BridgeBackend, ObjectStore, PostgresServer, fleet_backend
from tests.bridge.client import Reply, blossom_auth, call, sha
from tests.unit.nostr_keys import keypair

ALICE = keypair(301)
BOB = keypair(302)


@dataclass
class Instance:
    data_dir: Path
    service: Service

    @property
    def media(self) -> str:
        return self.service.extra["media_url"]

    def cached(self) -> list[str]:
        """The blobs this instance keeps on its disk."""
        return sorted(p.name for p in (self.data_dir / "bridge" / "blobs").glob("??/*") if p.is_file())


@dataclass
class Fleet:
    backend: BridgeBackend
    store: ObjectStore
    instances: list[Instance]

    def keys(self) -> list[str]:
        return self.store.keys(self.backend.s3_bucket)


@pytest.fixture(scope="module")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, seaweedfs: ObjectStore
) -> Iterator[Fleet]:
    backend = fleet_backend(postgres, seaweedfs)
    instances: list[Instance] = []
    try:
        for name in "abc":
            data_dir = tmp_path_factory.mktemp(f"fleet-{name}")
            extra = ("--retention-interval", "0", *backend.args())
            service = start_bridge(data_dir, free_port(), relays=[], trackers=[], extra_args=extra, env=backend.env)
            instances.append(Instance(data_dir, service))
        yield Fleet(backend, seaweedfs, instances)
    finally:
        for instance in instances:
            instance.service.stop()


def put(instance: Instance, data: bytes, key: tuple[str, str], content_type: str = "video/mp4") -> Reply:
    headers = {"Authorization": blossom_auth(key[0], "upload", [sha(data)]), "Content-Type": content_type}
    return call(instance.media, "PUT", "/upload", data, headers)


def test_a_blob_stored_through_one_instance_is_served_by_every_other(fleet: Fleet) -> None:
    a, b, c = fleet.instances
    data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks of a streamed read
    x = sha(data)
    assert put(a, data, ALICE).status == 201
    assert fleet.keys() == [x]  # in the bucket, once
    assert a.cached() == [x] and b.cached() == [] and c.cached() == []

    whole = call(b.media, "GET", f"/{x}.mp4")
    assert (whole.status, whole.headers["Content-Type"], whole.body == data) == (200, "video/mp4", True)
    assert whole.headers["X-Content-Type-Options"] == "nosniff"
    part = call(b.media, "GET", f"/{x}.mp4", headers={"Range": "bytes=1000000-1999999"})
    assert (part.status, part.headers["Content-Range"]) == (206, f"bytes 1000000-1999999/{len(data)}")
    assert part.body == data[1000000:2000000]
    tail = call(b.media, "GET", f"/{x}", headers={"Range": "bytes=-10"})
    assert (tail.status, tail.body) == (206, data[-10:])
    head = call(c.media, "HEAD", f"/{x}")
    assert (head.status, head.headers["Content-Length"], head.body) == (200, str(len(data)), b"")
    beyond = call(c.media, "GET", f"/{x}", headers={"Range": f"bytes={len(data)}-"})
    assert (beyond.status, beyond.headers["Content-Range"]) == (416, f"bytes */{len(data)}")
    assert b.cached() == [] and c.cached() == []  # streamed from the bucket, not copied

    assert [d["sha256"] for d in call(c.media, "GET", f"/list/{ALICE[1]}").json()] == [x]
    assert put(b, data, BOB).status == 200  # already stored: a second owner, no second object
    assert fleet.keys() == [x]

    delete = {"Authorization": blossom_auth(ALICE[0], "delete", [x])}
    assert call(c.media, "DELETE", f"/{x}", headers=delete).status == 200
    assert fleet.keys() == [x]  # Bob still owns it
    assert call(a.media, "GET", f"/{x}").status == 200
    delete = {"Authorization": blossom_auth(BOB[0], "delete", [x])}
    assert call(b.media, "DELETE", f"/{x}", headers=delete).status == 200
    assert fleet.keys() == []
    for instance in fleet.instances:
        assert call(instance.media, "GET", f"/{x}").status == 404


def test_an_empty_blob_and_a_missing_object(fleet: Fleet) -> None:
    a, b, _c = fleet.instances
    assert put(a, b"", ALICE, "text/plain").status == 201
    empty = call(b.media, "GET", f"/{sha(b'')}")
    assert (empty.status, empty.body, empty.headers["Content-Length"]) == (200, b"", "0")
    # an object lost from the bucket (an operator's mistake) is a 404 on an instance without a copy, never a 500
    data = b"soon gone from the bucket"
    assert put(a, data, ALICE, "text/plain").status == 201
    client = fleet.store.client()
    try:
        client.delete_object(Bucket=fleet.backend.s3_bucket, Key=sha(data))
    finally:
        client.close()
    assert call(b.media, "GET", f"/{sha(data)}").status == 404
    assert call(b.media, "HEAD", f"/{sha(data)}").status == 404
    assert call(a.media, "GET", f"/{sha(data)}").body == data  # the instance it came through still has its copy
