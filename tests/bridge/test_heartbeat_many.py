"""A browser that keeps 5,000 files reports them to the real Bridge (in this process, with a clock the test moves, and
the real tracker) in heartbeats planned by asknostr.heartbeat, as browser/swarm_orchestrator.py sends them."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from asknostr.heartbeat import MAX_REPORTS, HeartbeatPlan, Report, body, held_in
from bridge.config import BridgeConfig
from bridge.heartbeat import MAX_BODY
from devstack.services import Service
from tests.bridge.client import heartbeat, info_hash_of, ping_payload, request, signed_post, upload
from tests.bridge.inprocess import InProcessBridge
from tests.unit.nostr_keys import keypair

UPLOADER = keypair(700)
FOLLOWER = keypair(701)
KEPT = 5000
HELD_AT = [0, 1, 2, 37, 499, 500, 1234, 2500, 3999, 4998, 4999]
"""Where, newest first, the files the Bridge holds are among the follower's 5,000."""


@pytest.fixture
def bridge(tmp_path: Path, tracker: Service) -> Iterator[InProcessBridge]:
    config = BridgeConfig(data_dir=tmp_path / "bridge", trackers=(tracker.url,), retention_interval=0)
    with InProcessBridge(config) as running:
        yield running


def seed(bridge: InProcessBridge, tracker: Service, data: bytes, name: str) -> str:
    """Upload `data` to the Bridge and ping it (as the creator's browser does); the infoHash it now seeds."""
    url = upload(bridge.media_url, data, UPLOADER[0], now=bridge.clock())
    payload = ping_payload(url, data, tracker.url, name)
    status, answer = signed_post(f"{bridge.url}/api/ping", payload, UPLOADER[0], now=bridge.clock())
    assert status == 200 and answer["state"] == "seeding", answer
    return info_hash_of(payload)


def heartbeat_keys(bridge: InProcessBridge, info_hash: str) -> int:
    """How many keys' heartbeats the Bridge counts for `info_hash` now (its public status)."""
    status, answer = request("GET", f"{bridge.url}/api/torrents/{info_hash}", b"", {})
    assert status == 200, answer
    return int(answer["seeders"]["heartbeat_keys"])


@pytest.mark.slow
def test_a_browser_keeping_5000_files_is_counted_for_every_one_the_bridge_holds(
    bridge: InProcessBridge, tracker: Service
) -> None:
    held = {seed(bridge, tracker, bytes([n]) * (20_000 + n), f"held{n}.mp4") for n in range(len(HELD_AT))}
    others = iter(os.urandom(20).hex() for _ in range(KEPT))
    ordered = sorted(held)
    kept = [ordered.pop(0) if n in HELD_AT else next(others) for n in range(KEPT)]  # newest first
    seeders = [Report(h, 1 + n % 7) for n, h in enumerate(kept)]
    url = f"{bridge.url}/api/heartbeat"
    interval = bridge.config.heartbeat_interval

    # the old heartbeat, every done torrent in one body, is refused: too large
    status, _ = heartbeat(bridge.url, {h: 1 for h in kept}, FOLLOWER[0], now=bridge.clock())
    assert status == 413

    plan, sizes, all_found = HeartbeatPlan(), [], 0
    bound = math.ceil(KEPT / (MAX_REPORTS - len(held)))
    for beat in range(bound + 5):
        if beat:
            bridge.clock.advance(interval)
        reports = plan.next(seeders)
        payload = body(reports)
        sizes.append(len(json.dumps(payload).encode()))
        assert sizes[-1] <= MAX_BODY // 4
        status, answer = signed_post(url, payload, FOLLOWER[0], now=bridge.clock())
        assert status == 200, (beat, status, answer)  # never 400, 413 or 429 at the heartbeat interval
        assert answer["accepted"] == len(answer["held"]) and set(answer["held"]) <= held
        plan.record(reports, held_in(answer))
        found = plan.held()
        assert all(heartbeat_keys(bridge, h) == 1 for h in found)  # counted, and still counted
        all_found = all_found or (beat + 1 if found == held else 0)
        if beat >= bound:
            assert found == held, f"after {beat + 1} heartbeats the Bridge knows of {len(found)} of {len(held)}"
    print(
        f"\n{KEPT} kept, {len(held)} held by the Bridge: all counted after {all_found} heartbeats; bodies of "
        f"{max(sizes) // 1024} KiB at most (the Bridge takes {MAX_BODY // 1024} KiB), {sizes[-1]} bytes once known"
    )

    bridge.clock.advance(interval)
    for _ in range(3):  # a retry, a reload: three at once are within the per-key burst
        reports = plan.next(seeders)
        status, answer = signed_post(url, body(reports), FOLLOWER[0], now=bridge.clock())
        assert status == 200, answer
        plan.record(reports, held_in(answer))


def test_the_answer_names_what_the_bridge_holds_only_when_asked(bridge: InProcessBridge, tracker: Service) -> None:
    info_hash = seed(bridge, tracker, b"h" * 30_000, "held.mp4")
    other = "e" * 40
    torrents = [{"info_hash": info_hash.upper(), "seeders": 2}, {"info_hash": other, "seeders": 1}]
    url = f"{bridge.url}/api/heartbeat"
    status, answer = signed_post(url, {"torrents": torrents, "ask_held": True}, FOLLOWER[0], now=bridge.clock())
    assert status == 200 and answer == {"accepted": 1, "ignored": 1, "ttl": 180.0, "held": [info_hash]}
    status, answer = signed_post(url, {"torrents": torrents}, FOLLOWER[0], now=bridge.clock())
    assert status == 200 and answer == {"accepted": 1, "ignored": 1, "ttl": 180.0}  # an older client's answer
    status, answer = signed_post(url, {"torrents": torrents, "ask_held": "yes"}, FOLLOWER[0], now=bridge.clock())
    assert status == 400 and "ask_held" in answer["error"]
