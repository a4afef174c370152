"""Proof of possession against real peers: libtorrent sessions seeding over WebRTC through the real tracker.

Honest seeders hold the file; a garbage seeder holds bytes of the right length and claims to be a seed (seed mode);
tracker announcers claim `left: 0` with no peer behind them; the Bridge's own seeder (bridge.seeder) takes part too
and must never count. Every peer here shares the namespace's one address (10.77.0.1): libtorrent is told to allow
several connections from one address, and the count by address is 1 — peers are told apart by peer id instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
from pathlib import Path

import libtorrent as lt
import pytest

from bridge.possession import PossessionVerifier, Round
from bridge.seeder import PEER_FINGERPRINT, Seeder
from bridge.swarm_health import proven_seeders
from bridge.torrent import TorrentInfo, build_info
from devstack.services import Service
from tests.async_runner import run
from tests.bridge.lt_peers import LtSeeder
from tests.bridge.tracker_peers import TrackerSeeders

HONEST = [b"-HS0000-", b"-HS1000-", b"-HS2000-"]
GARBAGE = b"-GB0000-"
"""Claims to be a seed (seed mode, a file of random bytes); libtorrent checks a piece before it first sends it, finds it
bad, and would download the real file from the others: in upload mode it cannot, so it has nothing to send."""
ROTTEN = b"-RT0000-"
"""A real seed whose file is overwritten with random bytes after libtorrent checked it: it sends wrong blocks."""
PIECE = 128 * 1024
ROUNDS = 8


def prefix_of(peer_id: str) -> bytes:
    return bytes.fromhex(peer_id)[:8]


def swarm_files(tmp_path: Path) -> tuple[bytes, TorrentInfo]:
    data = os.urandom(2 * 1024 * 1024 + 12_345)  # 17 pieces, the last one short
    return data, build_info([data], "clip.mp4", len(data), PIECE)


async def verify_swarm(tmp_path: Path, tracker: Service) -> tuple[list[Round], list[LtSeeder], Seeder]:
    data, info = swarm_files(tmp_path)
    peers: list[LtSeeder] = []
    for n, fingerprint in enumerate(HONEST):
        path = tmp_path / f"honest{n}" / "clip.mp4"
        path.parent.mkdir()
        path.write_bytes(data)
        peers.append(LtSeeder(fingerprint, path, info, tracker.url))
    garbage_path = tmp_path / "garbage" / "clip.mp4"
    garbage_path.parent.mkdir()
    garbage_path.write_bytes(os.urandom(len(data)))
    peers.append(LtSeeder(GARBAGE, garbage_path, info, tracker.url))
    peers[-1].handle.set_flags(lt.torrent_flags.upload_mode)
    rotten_path = tmp_path / "rotten" / "clip.mp4"
    rotten_path.parent.mkdir()
    rotten_path.write_bytes(data)
    rotten = LtSeeder(ROTTEN, rotten_path, info, tracker.url, seed_mode=False)
    rotten.wait_seeding()
    with rotten_path.open("r+b") as f:  # in place: libtorrent reads the file it checked (mmap), not a copy
        f.write(os.urandom(len(data)))
    peers.append(rotten)
    bridge = Seeder(tmp_path / "bridge-seeding")  # the Bridge's own seeder, as bridge.seeder runs it
    bridge.start()
    blob = tmp_path / "blob"
    blob.write_bytes(data)
    await bridge.seed(info, blob, [tracker.url])
    claims = TrackerSeeders(tracker.url, info.info_hash, 11)  # `left: 0`, nothing behind
    await claims.announce()
    verifier = PossessionVerifier(
        tmp_path / "verifier",
        exclude_peer_ids=(PEER_FINGERPRINT.encode(),),
    )
    verifier.start()
    rounds: list[Round] = []
    try:
        await asyncio.sleep(1)  # the seeders' first announces
        proven: set[bytes] = set()
        while len(rounds) < ROUNDS and not proven >= set(HONEST):
            rounds.append(await verifier.verify(info, [tracker.url]))
            proven |= {prefix_of(proof.peer_id) for proof in rounds[-1].proofs}
    finally:
        verifier.close()
        await claims.leave()
        for peer in peers:
            peer.close()
        await bridge.close()
    return rounds, peers, bridge


@pytest.mark.webrtc
@pytest.mark.slow
def test_only_peers_that_served_checked_pieces_are_proven(tmp_path: Path, tracker: Service) -> None:
    rounds, _peers, _bridge = run(verify_swarm(tmp_path, tracker))
    proofs = [proof for r in rounds for proof in r.proofs]
    failures = [failure for r in rounds for failure in r.failures]
    proven = {prefix_of(proof.peer_id) for proof in proofs}
    assert proven == set(HONEST), [(r.pieces, r.proofs, r.failures, r.connected) for r in rounds]
    for r in rounds:
        for proof in r.proofs:
            assert proof.piece in r.verified and proof.piece in r.pieces  # a proof is a checked, challenged piece
    announcers = {proof.peer_id for proof in proofs} & fake_peer_ids(rounds[0].info_hash)
    assert not announcers  # announces with no peer behind them prove nothing...
    connected = {peer_id for r in rounds for _, peer_id in r.connected}
    assert not connected & fake_peer_ids(rounds[0].info_hash)  # ...they never even connect
    assert GARBAGE not in proven and ROTTEN not in proven  # nothing to send; wrong blocks
    assert any(prefix_of(f.peer_id) == ROTTEN for f in failures), failures  # its wrong blocks were caught
    assert all(
        prefix_of(peer_id) == PEER_FINGERPRINT.encode() for r in rounds for _, peer_id in r.excluded
    )  # the Bridge's own
    assert not any(prefix_of(proof.peer_id) == PEER_FINGERPRINT.encode() for proof in proofs)
    assert not any(r.timed_out for r in rounds if r.proofs)
    assert not list((tmp_path / "verifier").iterdir())  # each round's files are deleted

    now = max(proof.at for proof in proofs)
    assert proven_seeders(proofs, failures, now=now, window=3600) == 1  # one namespace, one address
    # told apart by peer id, the seeders are three; by its prefix only (a libtorrent seeder was seen under two peer
    # ids across rounds: the id is per announce, not per peer)
    by_fingerprint = [dataclasses.replace(proof, peer_id=proof.peer_id[:16]) for proof in proofs]
    assert proven_seeders(by_fingerprint, [], now=now, window=3600, per_peer=True) == len(HONEST)
    print(
        "rounds:",
        [
            (len(r.pieces), len(r.verified), round(r.duration, 2), sorted({prefix_of(p.peer_id) for p in r.proofs}))
            for r in rounds
        ],
    )


def fake_peer_ids(info_hash: str) -> set[str]:
    """The peer ids tests.bridge.tracker_peers announces with."""
    return {hashlib.sha1(f"{info_hash}{n}".encode()).hexdigest() for n in range(11)}
