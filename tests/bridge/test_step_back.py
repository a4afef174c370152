"""The Bridge steps back from a swarm that carries itself (bridge.step_back applied by bridge.seeder), against real
peers: libtorrent sessions talking WebRTC through the real tracker, as browsers do. A lone follower gets the file from
the Bridge at full speed; once three other seeds hold it, a newcomer gets it from them and the Bridge only trickles,
until they leave."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from bridge.seeder import SCRAPE_EVERY, STEP_BACK_INTERVAL, Seeder
from bridge.step_back import FULL, SHARE, TRICKLE, StepBack
from bridge.torrent import TorrentInfo, build_info
from bridge.tracker_scrape import scrape_all
from devstack.services import Service
from tests.async_runner import run
from tests.bridge.lt_peers import LtSeeder
from tests.bridge.tracker_peers import TrackerSeeders

SIZE = 4 * 1024 * 1024 + 4321
PIECE = 256 * 1024
SHARE_RATE = 64 * 1024


def swarm_file(tmp_path: Path) -> tuple[bytes, TorrentInfo, Path]:
    data = os.urandom(SIZE)
    blob = tmp_path / "blob"
    blob.write_bytes(data)
    return data, build_info([data], "clip.mp4", len(data), PIECE), blob


def peer(tmp_path: Path, name: str, info: TorrentInfo, tracker: Service, data: bytes | None) -> LtSeeder:
    """A seed when given the file's bytes, else a follower that downloads it."""
    path = tmp_path / name / "clip.mp4"
    path.parent.mkdir()
    if data is not None:
        path.write_bytes(data)
    return LtSeeder(f"-{name[:2].upper()}0000-".encode(), path, info, tracker.url, seed_mode=data is not None)


async def downloaded(follower: LtSeeder) -> None:
    deadline = time.monotonic() + 60
    while not follower.handle.status().is_seeding:
        assert time.monotonic() < deadline, f"no whole file in 60 s: {follower.handle.status().progress:.0%}"
        await asyncio.sleep(0.1)


@pytest.mark.webrtc
def test_a_lone_follower_gets_the_file_from_the_bridge_at_full_speed(tmp_path: Path, tracker: Service) -> None:
    async def scenario() -> None:
        data, info, blob = swarm_file(tmp_path)
        bridge = Seeder(tmp_path / "bridge", step_back=StepBack(holders=3))
        bridge.start()
        try:
            await bridge.seed(info, blob, [tracker.url])
            follower = peer(tmp_path, "fa", info, tracker, None)
            await downloaded(follower)
            status = bridge.status(info.info_hash)
            assert status is not None and status.uploaded >= SIZE  # nobody else had it
            assert (tmp_path / "fa" / "clip.mp4").read_bytes() == data
            follower.close()
        finally:
            await bridge.close()

    run(scenario())


@pytest.mark.webrtc
def test_once_other_seeds_hold_the_file_the_bridge_shares_and_a_newcomer_gets_it_from_them(
    tmp_path: Path, tracker: Service
) -> None:
    async def scenario() -> None:
        data, info, blob = swarm_file(tmp_path)
        seeds = [peer(tmp_path, name, info, tracker, data) for name in ("sa", "sb", "sc")]
        for seed in seeds:  # browsers send slower than the Bridge: a plain seed wins the race against them
            seed.handle.set_upload_limit(512 * 1024)
        await asyncio.sleep(1)  # their announces: the tracker counts three seeds
        bridge = Seeder(
            tmp_path / "bridge",
            step_back=StepBack(holders=3, share_rate=SHARE_RATE, trickle_rate=16 * 1024),
            scraper=scrape_all,
            scrape_trackers=(tracker.url,),
        )
        bridge.start()
        try:
            await bridge.seed(info, blob, [tracker.url])
            deadline = time.monotonic() + 15
            while (status := bridge.status(info.info_hash)) is None or status.mode != SHARE:
                assert time.monotonic() < deadline, f"the Bridge still seeds in mode {status and status.mode}"
                await asyncio.sleep(0.2)
            before, started = status.uploaded, time.monotonic()
            newcomer = peer(tmp_path, "nc", info, tracker, None)
            await downloaded(newcomer)
            assert (tmp_path / "nc" / "clip.mp4").read_bytes() == data
            after = bridge.status(info.info_hash)
            assert after is not None
            sent, took = after.uploaded - before, time.monotonic() - started
            print(f"the Bridge sent {sent} bytes of {SIZE} in {took:.1f} s")
            # its share rate, give or take a piece in flight (a plain seed sent all of it)
            assert sent <= SHARE_RATE * took + PIECE, (sent, took)
            assert sum(seed.uploaded() for seed in seeds) >= SIZE / 2  # the seeds served it
            # they all leave (their sockets close, the tracker forgets them): the Bridge is the only source again, and
            # sends at full speed from its next scrape on
            for one in [newcomer, *seeds]:
                one.close()
            seeds.clear()
            deadline = time.monotonic() + 2 * SCRAPE_EVERY * STEP_BACK_INTERVAL
            while (status := bridge.status(info.info_hash)) is None or status.mode != FULL:
                assert time.monotonic() < deadline, f"the Bridge still seeds in mode {status and status.mode}"
                await asyncio.sleep(0.2)
        finally:
            for seed in seeds:
                seed.close()
            await bridge.close()

    run(scenario())


@pytest.mark.webrtc
def test_fake_seeds_at_the_tracker_slow_the_bridge_to_its_share_rate_no_further(
    tmp_path: Path, tracker: Service
) -> None:
    """Announces are free: eleven `left: 0` announces with no peer behind them make the tracker count eleven seeds.
    The Bridge then shares (it cannot tell), but never only trickles, and a follower still gets the file from it."""

    async def scenario() -> None:
        data, info, blob = swarm_file(tmp_path)
        fakes = TrackerSeeders(tracker.url, info.info_hash, 11)
        await fakes.announce()
        bridge = Seeder(
            tmp_path / "bridge",
            step_back=StepBack(holders=3, share_rate=1024 * 1024, trickle_rate=1024),
            scraper=scrape_all,
            scrape_trackers=(tracker.url,),
        )
        bridge.start()
        try:
            await bridge.seed(info, blob, [tracker.url])
            follower = peer(tmp_path, "fo", info, tracker, None)
            seen = set()
            deadline = time.monotonic() + 60
            while not follower.handle.status().is_seeding:
                assert time.monotonic() < deadline, f"no whole file in 60 s: {follower.handle.status().progress:.0%}"
                status = bridge.status(info.info_hash)
                seen.add(status.mode if status else None)
                await asyncio.sleep(0.1)
            assert (tmp_path / "fo" / "clip.mp4").read_bytes() == data
            assert SHARE in seen and TRICKLE not in seen, seen
            follower.close()
        finally:
            await fakes.leave()
            await bridge.close()

    run(scenario())
