"""Heartbeats, swarm health, retention and handoff, against the Bridge (in this process, with a clock the test
moves) and the real WebSocket tracker."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.config import BridgeConfig
from bridge.takeback import watch_pass
from bridge.torrent import parse_torrent
from bridge.tracker_scrape import scrape_all
from devstack.services import Service, free_port
from tests.backends import ObjectStore, PostgresServer, fleet_backend
from tests.bridge.client import call, heartbeat, info_hash_of, ping_payload, request, signed_post, upload
from tests.bridge.inprocess import InProcessBridge
from tests.bridge.lt_peers import LtSeeder
from tests.bridge.tracker_peers import TrackerSeeders
from tests.unit.nostr_keys import keypair

DAY = 24 * 3600
UPLOADER = keypair(500)
KEYS = [keypair(600 + n) for n in range(11)]


@pytest.fixture
def bridge(tmp_path: Path, tracker: Service) -> Iterator[InProcessBridge]:
    config = BridgeConfig(
        port=free_port(), data_dir=tmp_path / "bridge", trackers=(tracker.url,), retention_interval=0
    )  # retention passes are run by the test
    with InProcessBridge(config) as running:
        yield running


def seed(bridge: InProcessBridge, tracker: Service, data: bytes, name: str) -> str:
    """Upload `data` to the Bridge, ping it, and return the infoHash it now seeds."""
    now = bridge.clock()
    url = upload(bridge.media_url, data, UPLOADER[0], now=now)
    payload = ping_payload(url, data, tracker.url, name)
    status, answer = signed_post(f"{bridge.url}/api/ping", payload, UPLOADER[0], now=now)
    assert status == 200 and answer["state"] == "seeding", answer
    return info_hash_of(payload)


def status_of(bridge: InProcessBridge, info_hash: str) -> dict[str, object]:
    code, answer = request("GET", f"{bridge.url}/api/torrents/{info_hash}", b"", {})
    assert code == 200, answer
    return dict(answer)


def blob_status(bridge: InProcessBridge, data: bytes) -> int:
    code, _ = request("HEAD", f"{bridge.media_url}/{hashlib.sha256(data).hexdigest()}", b"", {})
    return code


def test_fake_announces_and_many_keys_never_force_a_handoff(bridge: InProcessBridge, tracker: Service) -> None:
    """The attack: 11 tracker announces with no peer behind them and heartbeats from 11 fresh keys. Claims are free:
    they make the Bridge check the swarm, and nobody serves it a piece, so its copy is kept."""
    attacked, lone, sybil = (bytes([n]) * (40_000 + n) for n in range(3))
    a = seed(bridge, tracker, attacked, "attacked.mp4")
    b = seed(bridge, tracker, lone, "lone.mp4")
    c = seed(bridge, tracker, sybil, "sybil.mp4")
    crowd = [TrackerSeeders(tracker.url, a, 11), TrackerSeeders(tracker.url, b, 11)]  # no one announces c
    for peers in crowd:
        bridge.call(peers.announce())
    try:

        def beat() -> None:
            for secret, _ in KEYS:  # 11 distinct keys claim a and c
                assert heartbeat(bridge.url, {a: 12, c: 12}, secret, now=bridge.clock())[0] == 200
            # one key claims a hundred seeders for b
            assert heartbeat(bridge.url, {b: 100}, UPLOADER[0], now=bridge.clock())[0] == 200

        beat()
        bridge.clock.advance(3600)
        beat()
        assert bridge.call(bridge.keeper.retention_pass()) == []  # an hour old: kept, not even checked
        assert bridge.keeper.counters.possession_rounds == 0

        bridge.clock.advance(DAY)  # the votes of a day ago have expired: fresh heartbeats
        beat()
        assert bridge.call(bridge.keeper.retention_pass()) == []  # checked, nobody proved anything: kept
        assert bridge.keeper.counters.possession_rounds == 1  # a only: b and c are not even claimed by 11
        seeders = status_of(bridge, a)["seeders"]
        assert isinstance(seeders, dict)
        assert (seeders["active"], seeders["claimed"], seeders["heartbeat_keys"], seeders["tracker"]) == (0, 11, 11, 11)
    finally:
        for peers in crowd:
            bridge.call(peers.leave())

    for kept, data in ((a, attacked), (b, lone), (c, sybil)):
        assert status_of(bridge, kept)["state"] == "seeding" and blob_status(bridge, data) == 200
        assert (bridge.config.data_dir / "seeding" / kept).is_dir()
    lone_seeders = status_of(bridge, b)["seeders"]
    assert isinstance(lone_seeders, dict)
    assert lone_seeders["heartbeat_keys"] == 1 and lone_seeders["claimed"] == 1 and lone_seeders["active"] == 0
    assert lone_seeders["tracker"] == 11 and lone_seeders["claimed_median"] == 100

    with urllib.request.urlopen(f"{bridge.url}/metrics") as response:
        metrics = response.read().decode()
    assert 'asknostr_bridge_torrents{state="seeding"} 3.0' in metrics
    assert "asknostr_bridge_handoffs_total 0.0" in metrics
    assert "asknostr_bridge_possession_rounds_total 1.0" in metrics
    assert "asknostr_bridge_heartbeats_total 36.0" in metrics


@pytest.fixture
def bridge_of_one(tmp_path: Path, tracker: Service) -> Iterator[InProcessBridge]:
    """A Bridge that hands off once more than 0 seeders proved they hold a torrent: every peer of the test namespace
    has the same address (10.77.0.1), so proofs count one seeder however many peers there are."""
    config = BridgeConfig(
        data_dir=tmp_path / "bridge", trackers=(tracker.url,), retention_interval=0, handoff_seeders=0
    )
    with InProcessBridge(config) as running:
        yield running


@pytest.mark.webrtc
def test_a_seeder_that_proves_it_holds_the_file_lets_the_bridge_hand_off(
    bridge_of_one: InProcessBridge, tracker: Service, tmp_path: Path
) -> None:
    bridge = bridge_of_one
    data = os.urandom(600_000)
    info_hash = seed(bridge, tracker, data, "proven.mp4")
    path = tmp_path / "peer" / "proven.mp4"
    path.parent.mkdir()
    path.write_bytes(data)
    row = bridge.call(bridge.keeper.database().get_torrent(info_hash))
    assert row is not None
    honest = LtSeeder(b"-HS0000-", path, parse_torrent(row.info), tracker.url)  # a real peer holding the file
    try:
        deadline = time.monotonic() + 15
        while bridge.call(scrape_all({info_hash: [tracker.url]})).get(info_hash, 0) < 2:  # the peer and the Bridge
            assert time.monotonic() < deadline, "the peer never announced"
            time.sleep(0.2)
        bridge.clock.advance(DAY + 1)
        assert heartbeat(bridge.url, {info_hash: 2}, KEYS[0][0], now=bridge.clock())[0] == 200
        handed: list[str] = []
        for _ in range(3):  # a round proves whoever connected within it: the peer may miss the first
            handed = bridge.call(bridge.keeper.retention_pass(), timeout=120)
            if handed:
                break
        assert handed == [info_hash], (bridge.keeper.counters, status_of(bridge, info_hash))
        assert honest.uploaded() > 0  # the proof came from the peer's bytes
    finally:
        honest.close()
    status = status_of(bridge, info_hash)
    assert status["state"] == "handed_off" and status["seeders"] == {
        "active": 1,
        "claimed": None,
        "heartbeat_keys": 0,
        "claimed_median": None,
        "connected_to_bridge": 0,
        "tracker": None,
    }
    assert blob_status(bridge, data) == 404  # the Bridge's copy is gone
    assert not (bridge.config.data_dir / "seeding" / info_hash).exists()
    assert not list((bridge.config.data_dir / "verifying").iterdir())  # the check leaves nothing behind
    # a new upload and ping bring it back
    assert seed(bridge, tracker, data, "proven.mp4") == info_hash
    assert status_of(bridge, info_hash)["state"] == "seeding" and bridge.keeper.seeder.seeding(info_hash)


def test_heartbeats_are_signed_well_formed_and_rate_limited(bridge: InProcessBridge, tracker: Service) -> None:
    info_hash = seed(bridge, tracker, b"x" * 20_000, "x.mp4")
    secret = KEYS[0][0]
    status, answer = heartbeat(bridge.url, {info_hash: 3, "c" * 40: 1}, secret, now=bridge.clock())
    assert status == 200 and answer == {"accepted": 1, "ignored": 1, "ttl": 180.0}  # unknown torrents ignored

    url = f"{bridge.url}/api/heartbeat"
    status, answer = signed_post(url, {"torrents": []}, secret, now=bridge.clock() - 3600)
    assert status == 401 and "last 60 s" in answer["error"]
    status, answer = signed_post(url, {"torrents": []}, secret, now=bridge.clock(), signed_url=f"{bridge.url}/x")
    assert status == 401 and "another URL" in answer["error"]
    status, answer = request("POST", url, b'{"torrents": []}', {})
    assert status == 401
    status, answer = signed_post(url, {"torrents": [{"info_hash": "zz"}]}, KEYS[1][0], now=bridge.clock())
    assert status == 400 and "40 hex digits" in answer["error"]

    codes = [heartbeat(bridge.url, {info_hash: 1}, KEYS[2][0], now=bridge.clock())[0] for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]  # a burst of 3, then one every 10 s per key
    assert heartbeat(bridge.url, {info_hash: 1}, KEYS[3][0], now=bridge.clock())[0] == 200  # others go on
    bridge.clock.advance(10)
    assert heartbeat(bridge.url, {info_hash: 1}, KEYS[2][0], now=bridge.clock())[0] == 200

    seeders = status_of(bridge, info_hash)["seeders"]
    assert isinstance(seeders, dict) and seeders["heartbeat_keys"] == 3  # one vote per key
    code, answer = request("GET", f"{bridge.url}/api/torrents/{'d' * 40}", b"", {})
    assert code == 404 and answer["error"]


def test_every_torrent_is_announced_not_only_the_first_five(bridge: InProcessBridge, tracker: Service) -> None:
    """libtorrent's queue would leave all but 5 auto-managed seeds paused: browsers would not find the Bridge."""
    hashes = [seed(bridge, tracker, bytes([n]) * (30_000 + n), f"many{n}.mp4") for n in range(8)]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        counts = bridge.call(scrape_all({h: [tracker.url] for h in hashes}))
        if all(counts.get(h, 0) >= 1 for h in hashes):
            break
        time.sleep(0.2)
    assert {h: counts.get(h, 0) for h in hashes} == dict.fromkeys(hashes, 1)


def test_odd_torrent_names_are_seeded_and_survive_a_restart(bridge: InProcessBridge, tracker: Service) -> None:
    """The name is the pinger's: too long for a file name, or with characters libtorrent rewrites."""
    names = ["映" * 100 + ".mp4", "a\u202egnp.exe", "x" * 250 + ".bin"]
    hashes = [seed(bridge, tracker, bytes([n + 7]) * 25_000, name) for n, name in enumerate(names)]
    for info_hash in hashes:
        assert status_of(bridge, info_hash)["state"] == "seeding"
    assert bridge.call(bridge.keeper.resume()) == len(hashes)  # a restart seeds them again without error


def test_a_large_heartbeat_is_read_whole(bridge: InProcessBridge, tracker: Service) -> None:
    info_hash = seed(bridge, tracker, b"big" * 10_000, "big.mp4")
    reports = {info_hash: 2, **{f"{n:040x}": 1 for n in range(999)}}  # ~70 KB of JSON
    status, answer = heartbeat(bridge.url, reports, KEYS[5][0], now=bridge.clock())
    assert status == 200 and answer["accepted"] == 1 and answer["ignored"] == 999


@pytest.mark.webrtc
def test_a_handed_off_torrent_is_taken_back_while_one_seeder_remains(tmp_path: Path, tracker: Service) -> None:
    """Two peers prove they hold the file: the Bridge hands it off. They leave one by one; when only one still
    proves it, the Bridge downloads the file back from it, checks it and stores and seeds it again."""
    config = BridgeConfig(
        data_dir=tmp_path / "bridge",
        trackers=(tracker.url,),
        retention_interval=0,
        handoff_seeders=1,
        take_back_below=2,
    )
    data = os.urandom(700_000)
    with InProcessBridge(config) as bridge:
        bridge.keeper.proofs.per_peer = True  # every peer of the test namespace has one address: count peer ids
        info_hash = seed(bridge, tracker, data, "kept.mp4")
        row = bridge.call(bridge.keeper.database().get_torrent(info_hash))
        assert row is not None
        peers = []
        for n in range(2):
            path = tmp_path / f"peer{n}" / "kept.mp4"
            path.parent.mkdir()
            path.write_bytes(data)
            peers.append(LtSeeder(f"-HS000{n}-".encode(), path, parse_torrent(row.info), tracker.url))
        try:
            wait_scrape(bridge, tracker, info_hash, 3)  # the two peers and the Bridge
            bridge.clock.advance(DAY + 1)
            for secret, _ in KEYS[:2]:
                assert heartbeat(bridge.url, {info_hash: 2}, secret, now=bridge.clock())[0] == 200
            handed: list[str] = []
            for _ in range(3):  # a round proves whoever connected within it: a peer may miss the first
                handed = bridge.call(bridge.keeper.retention_pass(), timeout=120)
                if handed:
                    break
            assert handed == [info_hash], (bridge.keeper.counters, status_of(bridge, info_hash))
            assert blob_status(bridge, data) == 404

            assert bridge.call(watch_pass(bridge.keeper), timeout=120) == []  # two still prove it: left alone
            peers.pop(0).close()  # (the tracker may list it a while yet: only a peer that serves pieces proves)
            taken = bridge.call(watch_pass(bridge.keeper), timeout=180)
            assert taken == [info_hash], status_of(bridge, info_hash)
        finally:
            for peer in peers:
                peer.close()
        # the last seeder is gone: the Bridge has the file again, the same bytes, and seeds it
        got = call(bridge.media_url, "GET", f"/{hashlib.sha256(data).hexdigest()}")
        assert (got.status, hashlib.sha256(got.body).hexdigest()) == (200, hashlib.sha256(data).hexdigest())
        status = status_of(bridge, info_hash)
        assert status["state"] == "seeding" and bridge.keeper.seeder.seeding(info_hash)
        assert bridge.keeper.counters.take_backs == 1


def wait_scrape(bridge: InProcessBridge, tracker: Service, info_hash: str, count: int) -> None:
    deadline = time.monotonic() + 20
    while bridge.call(scrape_all({info_hash: [tracker.url]})).get(info_hash, 0) != count:
        assert time.monotonic() < deadline, f"the tracker never counted {count} seeders"
        time.sleep(0.2)


@pytest.mark.webrtc
def test_retention_passes_racing_on_the_same_due_torrents_hand_each_off_once(
    tmp_path: Path,
    tracker: Service,
    postgres: PostgresServer,
    seaweedfs: ObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fleet (PostgreSQL, S3): two retention passes of the instance that seeds two due torrents run at once (a
    slow pass overlapping the next), and the other instance's pass with them; real peers prove they hold the files.
    Each torrent is handed off once: one handoff row, its object deleted once, no pass fails."""
    backend = fleet_backend(postgres, seaweedfs)

    def config(name: str) -> BridgeConfig:
        return backend.in_process(
            tmp_path / name,
            monkeypatch,
            trackers=(tracker.url,),
            retention_interval=0,
            handoff_seeders=1,
            take_back_below=0,
        )

    with InProcessBridge(config("one")) as one, InProcessBridge(config("two")) as two:
        for bridge in (one, two):
            bridge.keeper.proofs.per_peer = True  # one address for every peer here: count peer ids
        files = [os.urandom(300_000 + n) for n in range(2)]
        hashes = [seed(one, tracker, data, f"due{n}.mp4") for n, data in enumerate(files)]
        peers = []
        for n, (data, info_hash) in enumerate(zip(files, hashes, strict=True)):
            row = one.call(one.keeper.database().get_torrent(info_hash))
            assert row is not None
            for k in range(2):
                path = tmp_path / f"peer{n}{k}" / f"due{n}.mp4"
                path.parent.mkdir()
                path.write_bytes(data)
                peers.append(LtSeeder(f"-HS{n}{k}00-".encode(), path, parse_torrent(row.info), tracker.url))
        try:
            for info_hash in hashes:
                wait_scrape(one, tracker, info_hash, 3)
            for bridge in (one, two):
                bridge.clock.advance(DAY + 1)
            for secret, _ in KEYS[:2]:
                assert heartbeat(two.url, dict.fromkeys(hashes, 2), secret, now=two.clock())[0] == 200  # any instance
            results: list[list[str]] = []
            errors: list[BaseException] = []

            def run_pass(bridge: InProcessBridge) -> None:
                try:
                    results.append(bridge.call(bridge.keeper.retention_pass(), timeout=180))
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=run_pass, args=(b,)) for b in (one, one, two)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(240)
        finally:
            for peer in peers:
                peer.close()
        assert errors == [] and len(results) == 3
        handed = [h for result in results for h in result]
        assert sorted(handed) == sorted(hashes)  # each once, whichever pass got there first
        db = one.keeper.database()
        for info_hash in hashes:
            assert len(one.call(db.handoffs(info_hash))) == 1
        assert one.keeper.counters.blobs_deleted + two.keeper.counters.blobs_deleted == len(files)
        assert seaweedfs.keys(backend.s3_bucket) == []
        assert not one.keeper.seeder.handles
