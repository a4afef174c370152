"""A fleet of three Bridge processes on one PostgreSQL and one S3 bucket (SeaweedFS), behind one media address:
each torrent is seeded by exactly one of them, a browser downloads it over WebRTC, and when that instance is
SIGKILLed another takes the torrent over and the browser downloads it again."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from devstack.services import Service, free_port, start_bridge
from tests.backends import BridgeBackend, ObjectStore, PostgresServer, fleet_backend
from tests.bridge.client import blossom_auth, call, heartbeat, info_hash_of, ping_payload, request, sha, signed_post
from tests.e2e.harness import Stack, download_in_browser
from tests.unit.nostr_keys import keypair

ALICE = keypair(4101)
BOB = keypair(4102)
CAROL = keypair(4103)
LEASE_SECONDS = 6
FAILOVER_LIMIT = 30.0


@dataclass
class Instance:
    name: str
    data_dir: Path
    service: Service

    @property
    def url(self) -> str:
        return self.service.url

    @property
    def media(self) -> str:
        """This instance's own media port (the fleet's public media URL is the first instance's)."""
        return self.service.extra["media_url"]

    def seeds(self, info_hash: str) -> bool:
        return (self.data_dir / "bridge" / "seeding" / info_hash).is_dir()

    def member(self) -> str:
        return (self.data_dir / "bridge" / "instance").read_text().strip()


@dataclass
class Fleet:
    backend: BridgeBackend
    store: ObjectStore
    instances: list[Instance]

    def alive(self) -> list[Instance]:
        return [i for i in self.instances if i.service.alive()]

    def status(self, info_hash: str) -> dict[str, Any]:
        status, answer = request("GET", f"{self.alive()[0].url}/api/torrents/{info_hash}", b"", {})
        assert status == 200, answer
        return dict(answer)

    def seeders(self, info_hash: str) -> list[str]:
        return [i.name for i in self.alive() if i.seeds(info_hash)]


@pytest.fixture(scope="module")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, stack: Stack, postgres: PostgresServer, seaweedfs: ObjectStore
) -> Iterator[Fleet]:
    backend = fleet_backend(postgres, seaweedfs)
    public_media_port = free_port()
    public_media = f"http://127.0.0.1:{public_media_port}"  # the instances' one address for blobs (a proxy's)
    instances: list[Instance] = []
    try:
        for n, name in enumerate("abc"):
            data_dir = tmp_path_factory.mktemp(f"fleet-{name}")
            extra = (*backend.args(), "--lease-seconds", str(LEASE_SECONDS), "--media-url", public_media)
            service = start_bridge(
                data_dir,
                free_port(),
                relays=[],
                trackers=[stack.tracker.url],
                media_port=public_media_port if n == 0 else None,
                extra_args=extra,
                env=backend.env,
            )
            instances.append(Instance(name, data_dir, service))
        yield Fleet(backend, seaweedfs, instances)
    finally:
        for instance in instances:
            instance.service.stop()


def ping(instance: Instance, payload: dict[str, str]) -> dict[str, Any]:
    status, answer = signed_post(f"{instance.url}/api/ping", payload, ALICE[0])
    assert status == 200, answer
    return dict(answer)


def wait_for(what: str, check: Any, timeout: float) -> float:
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - t0


@pytest.mark.webrtc
def test_one_instance_seeds_and_another_takes_over_when_it_is_killed(
    browser: Browser, stack: Stack, fleet: Fleet
) -> None:
    a, b, c = fleet.instances
    data = os.urandom(2 * 1024 * 1024 + 4321)
    x = sha(data)
    # upload through A, a Range through B, the ping through C
    put = call(a.media, "PUT", "/upload", data, {"Authorization": blossom_auth(ALICE[0], "upload", [x])})
    assert put.status == 201, put.reason
    url = put.json()["url"]
    assert url.startswith(a.media)
    part = call(b.media, "GET", f"/{x}", headers={"Range": "bytes=100-199"})
    assert (part.status, part.body) == (206, data[100:200])
    payload = ping_payload(url, data, stack.tracker.url, "fleet.mp4")
    info_hash = info_hash_of(payload)
    assert ping(c, payload)["state"] == "seeding"
    assert fleet.seeders(info_hash) == ["c"]
    assert fleet.status(info_hash)["seeded_by"] == c.member()
    # pings of the same torrent through the others: answered, not seeded twice
    assert ping(a, payload)["state"] == "seeding" and ping(b, payload)["state"] == "seeding"
    time.sleep(LEASE_SECONDS / 3 + 1)  # a lease round: nobody claims a torrent whose lease runs
    assert fleet.seeders(info_hash) == ["c"]
    # heartbeats reach any instance; a key's vote counts once
    for instance in (a, b, c):
        assert heartbeat(instance.url, {info_hash: 2}, BOB[0])[0] == 200
    assert heartbeat(b.url, {info_hash: 2}, CAROL[0])[0] == 200
    assert fleet.status(info_hash)["seeders"]["heartbeat_keys"] == 2

    got = download_in_browser(browser, a.url, payload["magnet"])
    assert got["sha256"] == x and "webrtc" in got["peers"], got

    c.service.kill()  # SIGKILL: its lease is never released, it runs out
    took = wait_for("another instance seeds the torrent", lambda: len(fleet.seeders(info_hash)) == 1, FAILOVER_LIMIT)
    [successor] = fleet.seeders(info_hash)
    assert successor in ("a", "b")
    status = fleet.status(info_hash)
    assert status["state"] == "seeding" and status["seeded_by"] != c.member()
    print(f"failover: {took:.1f} s (lease {LEASE_SECONDS} s)")

    got = download_in_browser(browser, a.url, payload["magnet"])
    assert got["sha256"] == x and "webrtc" in got["peers"], got
    # nothing lost: the blob is in the bucket and served through every live instance
    assert fleet.store.keys(fleet.backend.s3_bucket) == [x]
    for instance in fleet.alive():
        assert call(instance.media, "GET", f"/{x}").body == data
