"""Bridges sharing one PostgreSQL and one S3 bucket (SeaweedFS): what one instance stores, every instance serves;
a handoff happens once, whoever asks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge.config import BridgeConfig
from bridge.leases import lease_round
from devstack.services import LOCAL_S3_CREDENTIALS, Service, free_port, start_bridge, start_postgres
from tests.backends import BridgeBackend, ObjectStore, PostgresServer, fleet_backend
from tests.bridge.client import (
    Reply,
    blossom_auth,
    call,
    heartbeat,
    info_hash_of,
    ping_payload,
    sha,
    signed_post,
    upload,
)
from tests.bridge.inprocess import InProcessBridge
from tests.bridge.test_resumable import create, data_of, head, offset_of, patch, path_of
from tests.unit.nostr_keys import keypair

ALICE = keypair(301)
BOB = keypair(302)
KEYS = [keypair(310 + n) for n in range(4)]


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
            instances.append(Instance(data_dir, start_instance(data_dir, backend)))
        yield Fleet(backend, seaweedfs, instances)
    finally:
        for instance in instances:
            instance.service.stop()


LEASE_SECONDS = 4


def start_instance(data_dir: Path, backend: BridgeBackend) -> Service:
    extra = ("--retention-interval", "0", "--lease-seconds", str(LEASE_SECONDS), *backend.args())
    return start_bridge(data_dir, free_port(), relays=[], trackers=[], extra_args=extra, env=backend.env)


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
    # conditional requests, against the sha256 as ETag
    assert whole.headers["ETag"] == f'"{x}"'
    assert call(b.media, "GET", f"/{x}", headers={"If-None-Match": f'"{x}"'}).status == 304
    assert call(b.media, "GET", f"/{x}", headers={"If-Match": '"0000"'}).status == 412
    stale = call(b.media, "GET", f"/{x}", headers={"Range": "bytes=0-9", "If-Range": '"0000"'})
    assert (stale.status, len(stale.body)) == (200, len(data))  # If-Range not matched: the whole blob
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


def test_two_instances_handing_off_the_same_torrents_at_once_do_it_once(
    tmp_path: Path,
    postgres: PostgresServer,
    seaweedfs: ObjectStore,
    tracker: Service,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Retention jobs on two instances reach the same due torrents together: each torrent gets one handoff row, its
    object is deleted once, no job fails, and neither instance keeps a copy."""
    backend = fleet_backend(postgres, seaweedfs)

    def config(name: str) -> BridgeConfig:
        return backend.in_process(tmp_path / name, monkeypatch, trackers=(tracker.url,), retention_interval=0)

    with InProcessBridge(config("one")) as one, InProcessBridge(config("two")) as two:
        blobs = [os.urandom(50_000 + n) for n in range(6)]
        hashes = []
        for n, data in enumerate(blobs):
            now = one.clock()
            url = upload(one.media_url, data, ALICE[0], now=now)
            payload = ping_payload(url, data, tracker.url, f"due{n}.mp4")
            status, answer = signed_post(f"{one.url}/api/ping", payload, ALICE[0], now=now)
            assert status == 200 and answer["state"] == "seeding", answer
            hashes.append(info_hash_of(payload))
        assert sorted(fleet_keys := seaweedfs.keys(backend.s3_bucket)) == sorted(sha(d) for d in blobs), fleet_keys
        rows = one.call(one.keeper.database().torrents())
        # two instances copy the blobs, as a seeder after a failover would, then both hand every torrent off
        for row in rows:
            two.call(two.keeper.storage.store.local_copy(row.sha256))
        results: dict[str, list[bool]] = {}

        def hand_off_all(bridge: InProcessBridge, name: str) -> None:
            results[name] = [bridge.call(bridge.keeper.hand_off(row, 11, int(bridge.clock()))) for row in rows]

        threads = [
            threading.Thread(target=hand_off_all, args=(one, "one")),
            threading.Thread(target=hand_off_all, args=(two, "two")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(results) == 2  # both finished, without an error
        assert [a + b for a, b in zip(results["one"], results["two"], strict=True)] == [1] * len(rows)
        db = one.keeper.database()
        for info_hash in hashes:
            assert len(one.call(db.handoffs(info_hash))) == 1
            assert one.call(db.get_torrent(info_hash)).state == "handed_off"  # type: ignore[union-attr]
        deleted = one.keeper.counters.blobs_deleted + two.keeper.counters.blobs_deleted
        assert deleted == len(blobs)  # each object deleted by one instance, once
        assert seaweedfs.keys(backend.s3_bucket) == []
        for bridge in (one, two):
            bridge.call(lease_round(bridge.keeper))  # the next round: no cache copy of a blob that is gone
            assert bridge.keeper.storage.store.cached() == {}
            assert not bridge.keeper.seeder.handles
        assert one.call(db.deletions_due(int(one.clock()) + 3600)) == []  # every deletion done, none owed

        # an instance that dies between a DELETE's rows and its object: the debt is settled by a later round
        data = os.urandom(40_000)
        upload(one.media_url, data, ALICE[0], now=one.clock())
        assert one.call(db.remove_owner(sha(data), ALICE[1], int(one.clock()) - 120)) is True  # and then it died
        assert sha(data) in seaweedfs.keys(backend.s3_bucket)
        two.call(lease_round(two.keeper))
        assert sha(data) not in seaweedfs.keys(backend.s3_bucket)
        assert one.call(db.deletions_due(int(one.clock()) + 3600)) == []


def test_postgresql_restarted_under_load(tmp_path: Path, seaweedfs: ObjectStore, tracker: Service) -> None:
    """Two Bridges under a steady load of uploads, lists, blob reads and heartbeats while their PostgreSQL restarts:
    they reconnect by themselves, and no request answers 5xx outside the outage."""
    port = free_port()
    database = start_postgres(tmp_path / "pg", port)
    servers: list[Service] = [database]
    backend = BridgeBackend("fleet", database.url, seaweedfs.url, seaweedfs.new_bucket(), dict(LOCAL_S3_CREDENTIALS))
    bridges = [
        start_bridge(
            tmp_path / name,
            free_port(),
            relays=[],
            trackers=[tracker.url],
            extra_args=(*backend.args(), "--heartbeats-per-key", "0"),
            env=backend.env,
        )
        for name in ("one", "two")
    ]
    answers: list[tuple[float, float, int]] = []  # (sent, answered, status)
    stop = threading.Event()

    def load(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            bridge = bridges[n % 2]
            data = f"worker {worker} blob {n}".encode()
            sent = time.monotonic()
            if n % 3 == 0:
                headers = {"Authorization": blossom_auth(ALICE[0], "upload", [sha(data)])}
                status = call(bridge.extra["media_url"], "PUT", "/upload", data, headers).status
            elif n % 3 == 1:
                status = call(bridge.extra["media_url"], "GET", f"/list/{ALICE[1]}?limit=5").status
            else:
                status = heartbeat(bridge.url, {"a" * 40: 1}, KEYS[worker][0])[0]
            answers.append((sent, time.monotonic(), status))
            time.sleep(0.02)

    try:
        workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(2)
        down = time.monotonic()
        database.stop(30)
        time.sleep(2)  # the outage
        servers.append(start_postgres(tmp_path / "pg", port))
        up = time.monotonic()
        time.sleep(4)
        stop.set()
        for worker in workers:
            worker.join(30)
    finally:
        for service in [*bridges, *servers]:
            service.stop(30)
    assert len(answers) > 100
    late_errors = [(s - down, a - up, st) for s, a, st in answers if st >= 500 and a > up + 1.0]
    assert late_errors == [], late_errors  # a 503 is allowed while it is down, never once it is back
    after = [st for s, _a, st in answers if s > up + 1.0]
    assert after and all(st < 500 for st in after)
    assert {st for _s, _a, st in answers} <= {200, 201, 503}
    slowest = max(a - s for s, a, _st in answers)
    print(f"{len(answers)} requests, {sum(st == 503 for _s, _a, st in answers)} answered 503, slowest {slowest:.1f} s")


def test_a_resumable_upload_goes_on_where_its_bytes_are(fleet: Fleet) -> None:
    """A resumable upload's part file is on the disk of the instance that took it: another instance's restart
    leaves it alone, tells its offset, and sends its PATCHes back (503, try again); once that instance is dead the
    upload is gone (410) and the app starts it again. (Last in this module: it kills an instance.)"""
    a, b, c = fleet.instances
    data = data_of(3 * 1024 * 1024 + 5, seed=7)
    x, mib = sha(data), 1024 * 1024
    path = path_of(create(a.media, ALICE, x, len(data)))
    assert patch(a.media, path, ALICE, x, 0, data[:mib], complete=False).status == 204
    b.service.stop()
    b.service = start_instance(b.data_dir, fleet.backend)  # its start looks over its own uploads only
    assert offset_of(head(b.media, path, ALICE, x)) == mib  # from the database: what a acknowledged
    elsewhere = patch(b.media, path, ALICE, x, mib, data[mib : 2 * mib], complete=False)
    assert (elsewhere.status, elsewhere.headers["Retry-After"]) == (503, "1"), elsewhere.reason
    assert offset_of(head(a.media, path, ALICE, x)) == mib
    done = patch(a.media, path, ALICE, x, mib, data[mib:], complete=True)
    assert done.status == 201 and done.json()["sha256"] == x
    assert call(c.media, "GET", f"/{x}").body == data

    other = data_of(2 * mib, seed=8)
    y = sha(other)
    lost = path_of(create(a.media, ALICE, y, len(other)))
    assert patch(a.media, lost, ALICE, y, 0, other[:mib], complete=False).status == 204
    a.service.kill()
    deadline = time.monotonic() + 4 * LEASE_SECONDS
    while (answer := head(b.media, lost, ALICE, y)).status == 204:
        assert time.monotonic() < deadline, "the upload of a dead instance is never given up"
        time.sleep(0.5)
    assert answer.status == 410 and "start it again" in answer.reason
    assert head(c.media, lost, ALICE, y).status == 404


def test_make_run_fleet_starts_bridges_behind_one_address(tmp_path: Path) -> None:
    """`make run ARGS="--fleet 2"` as the README says: PostgreSQL, SeaweedFS, two Bridges and Caddy in front; a blob
    uploaded through the one address is served through it; Ctrl-C stops everything."""
    ports = {name: free_port() for name in ("port", "relay-port", "tracker-port", "media-port")}
    argv = [sys.executable, "-m", "devstack", "--fleet", "2", "--data-dir", str(tmp_path)]
    for name, port in ports.items():
        argv += [f"--{name}", str(port)]
    log = tmp_path / "devstack.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while b"is running" not in log.read_bytes():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        text = log.read_text()
        assert "bridge-1" in text and "bridge-2" in text and "balancer" in text
        app, media = f"http://127.0.0.1:{ports['port']}", f"http://127.0.0.1:{ports['media-port']}"
        config = call(app, "GET", "/config.json").json()
        assert (config["bridge"], config["bridge_media"]) == (app, media)
        data = os.urandom(100_000)
        headers = {"Authorization": blossom_auth(ALICE[0], "upload", [sha(data)]), "Content-Type": "image/png"}
        stored = call(media, "PUT", "/upload", data, headers)
        assert stored.status == 201 and stored.json()["url"].startswith(media)
        for _ in range(4):  # whichever instance answers
            assert call(media, "GET", f"/{sha(data)}.png").body == data
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(60)
    assert process.returncode == 0 and "stopped." in log.read_text()
