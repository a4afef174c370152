"""Proof of possession: which peers of a swarm served the Bridge data it chose at random, checked against the torrent.

Claims are free (a tracker announce with `left: 0`, a heartbeat from a fresh key), so a seeder counts toward a
handoff only when it *proved* it holds the data: the Bridge connected to it over BitTorrent (WebRTC, through the
tracker) and it delivered blocks of pieces the Bridge picked at random, and those pieces then passed their SHA-1 check.

How a round goes (`PossessionVerifier.verify`): a libtorrent session of its own (never the seeder's) adds the
torrent as a downloader, in a temporary directory, with piece priority 1 for a few random pieces and 0 for the rest,
and with a download limit of 1 byte/s. It announces to the trackers; its WebRTC offers reach random peers of the swarm,
and seeders' own offers reach it. After `gather` seconds the limit is lifted: each connected peer has requests queued
by then, so the blocks of the chosen pieces come from several peers at once. Every received block is attributed to the
peer that sent it (`block_finished_alert`: its address and peer id). A piece that passes its hash check
(`piece_finished_alert`) with no failure in the round gives each peer that sent blocks of it a `Proof`; a piece that
fails (`hash_failed_alert`, then libtorrent downloads it again) proves no one, and gives its senders a `Failure` (`sole`
when one peer sent all its blocks: a known liar). The round ends when every chosen piece passed or at its timeout; the
torrent and its files are then deleted.

libtorrent cannot be told to ask a given peer for a given piece (the piece picker chooses; no Python call reaches a
peer connection), nor to drop or refuse a WebRTC peer (its IP filter does not apply to WebRTC peers). So a round proves
whoever took part, and rounds are repeated with fresh pieces; the Bridge's own seeder, which connects like any peer, is
recognised by its peer id's prefix (its session's `peer_fingerprint`) and never counted.

Counting is pure (`bridge.swarm_health.proven_seeders`): distinct network addresses with a fresh proof.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libtorrent as lt

from bridge.swarm_health import Failure, Proof
from bridge.torrent import TorrentInfo

log = logging.getLogger(__name__)

CHALLENGE_FILE = "data"
MAX_OFFERS = 50
"""WebRTC offers sent with the verifier's announce: the tracker (bittorrent-tracker) sends each to another random peer
of the swarm and takes at most 50."""
STALLED = 1
BLOCK = 16 * 1024
"""libtorrent's request size: a piece arrives in blocks of 16 KiB (the last one shorter)."""
SETTLE = 2.0
"""Seconds to wait after the last check for the block alerts that trail it."""
"""The download limit (bytes/s) while peers gather: requests are queued at every peer, hardly any payload flows."""

_ALERTS = (
    lt.alert.category_t.error_notification
    | lt.alert.category_t.status_notification  # hash_failed_alert, torrent_removed_alert
    | lt.alert.category_t.peer_notification  # peer_ban_alert
    | lt.alert.category_t.piece_progress_notification  # piece_finished_alert
    | lt.alert.category_t.block_progress_notification  # block_finished_alert
)


@dataclass(frozen=True)
class Round:
    """What one verification round saw."""

    info_hash: str
    pieces: tuple[int, ...]
    """The pieces challenged (chosen at random)."""
    verified: tuple[int, ...]
    """Those that passed the hash check within the round."""
    proofs: tuple[Proof, ...]
    failures: tuple[Failure, ...]
    connected: tuple[tuple[str, str], ...]
    """Every peer that connected: (address, peer id hex), the excluded ones too."""
    excluded: tuple[tuple[str, str], ...]
    """Peers that sent blocks but are the Bridge's own (peer id prefix): never proofs."""
    gathered: float
    """Seconds spent waiting for peers to connect before the payload flowed."""
    duration: float
    timed_out: bool


def _peer_id(pid: Any) -> str:
    return str(pid)  # libtorrent's sha1_hash prints as 40 hex digits


def challenge_pieces(count: int, piece_length: int, budget: int, most: int) -> list[int]:
    """Distinct random pieces to ask for: as many as fit `budget` bytes, at most `most`, at least one."""
    wanted = max(1, min(count, most, budget // piece_length))
    return sorted(secrets.SystemRandom().sample(range(count), wanted))


@dataclass
class PossessionVerifier:
    """One libtorrent session, apart from the seeder's, that runs verification rounds one at a time."""

    root: Path
    """Where a round's temporary directory is made (deleted at the end of the round)."""
    stun_server: str = ""
    exclude_peer_ids: tuple[bytes, ...] = ()
    """Peer id prefixes never counted: the Bridge's own seeder (its session's `peer_fingerprint`)."""
    fingerprint: str = "-AV0001-"
    """The verifier's own peer id prefix (so the Bridge's seeder can tell it apart too)."""
    gather: float = 3.0
    timeout: float = 30.0
    """Seconds per round, `gather` included."""
    budget: int = 4 * 1024 * 1024
    """Bytes downloaded (and briefly on disk) per round, at most (but always one piece)."""
    most_pieces: int = 8
    one_connection_per_address: bool = False
    """libtorrent's default is one connection per address; the verifier takes several (browsers behind one router,
    every peer of a test namespace): the count is by address anyway, and a round downloads a few pieces only."""
    clock: Callable[[], float] = time.time
    session: Any = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.session = lt.session(
            {
                "listen_interfaces": "127.0.0.1:0",  # WebRTC only: no BitTorrent port open to the world
                "enable_dht": False,
                "enable_lsd": False,
                "enable_upnp": False,
                "enable_natpmp": False,
                "webtorrent_stun_server": self.stun_server,
                "max_webtorrent_offers": MAX_OFFERS,
                "webtorrent_connection_timeout": 20,
                "allow_multiple_connections_per_ip": not self.one_connection_per_address,
                "peer_fingerprint": self.fingerprint,
                "alert_mask": _ALERTS,
            }
        )

    async def verify(self, info: TorrentInfo, trackers: list[str]) -> Round:
        """One round on `info` (pieces chosen now, at random); rounds of all torrents run one at a time."""
        pieces = challenge_pieces(len(info.pieces), info.piece_length, self.budget, self.most_pieces)
        async with self._lock:
            return await asyncio.to_thread(self._round, info, trackers, pieces)

    def _round(self, info: TorrentInfo, trackers: list[str], pieces: list[int]) -> Round:
        started = time.monotonic()
        directory = Path(tempfile.mkdtemp(prefix=f"{info.info_hash}-", dir=self.root))
        self.session.pop_alerts()  # what is left of earlier rounds
        priorities = [0] * len(info.pieces)
        for piece in pieces:
            priorities[piece] = 1
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info({b"info": lt.bdecode(info.info_bytes)})  # type: ignore[call-overload]  # stubs lack it
        params.save_path = str(directory)
        params.renamed_files = {0: CHALLENGE_FILE}
        params.trackers = trackers
        params.piece_priorities = priorities
        params.download_limit = STALLED
        params.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
        handle = self.session.add_torrent(params)
        attempt = _Attempts(info, self.exclude_peer_ids, self.clock)
        gathered = 0.0
        try:
            while True:
                elapsed = time.monotonic() - started
                if not gathered and elapsed >= self.gather:
                    gathered = elapsed
                    attempt.saw(handle.get_peer_info())
                    handle.set_download_limit(0)  # unlimited: queued requests are answered by every peer
                    if all(attempt.ours(peer_id) for _, peer_id in attempt.connected):
                        break  # nobody but the Bridge came (announces with no peer behind them): nothing to prove
                if attempt.passed.keys() >= set(pieces) or elapsed >= self.timeout:
                    break
                self.session.wait_for_alert(100)
                for alert in self.session.pop_alerts():
                    attempt.take(alert)
            timed_out = not attempt.passed.keys() >= set(pieces)
            attempt.saw(handle.get_peer_info())
            settle = time.monotonic() + SETTLE
            while not attempt.settled() and time.monotonic() < settle:
                self.session.wait_for_alert(100)
                for alert in self.session.pop_alerts():
                    attempt.take(alert)
        finally:
            self._remove(handle)
            shutil.rmtree(directory, ignore_errors=True)
        return Round(
            info.info_hash,
            tuple(pieces),
            tuple(sorted(attempt.passed)),
            tuple(attempt.proofs()),
            tuple(attempt.failures()),
            tuple(sorted(attempt.connected)),
            tuple(sorted(attempt.excluded)),
            gathered,
            time.monotonic() - started,
            timed_out,
        )

    def _remove(self, handle: Any) -> None:
        """Remove the torrent and its files, and wait (a little) until libtorrent has let go of them."""
        self.session.remove_torrent(handle, lt.session.delete_files)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            self.session.wait_for_alert(100)
            if any(isinstance(a, lt.torrent_removed_alert) for a in self.session.pop_alerts()):
                return

    def close(self) -> None:
        self.session = None


@dataclass
class _Attempts:
    """Alerts of one round, folded into proofs once the round is over.

    Order-independent on purpose: libtorrent posts a piece's `piece_finished_alert` (the hash check, on the disk
    thread) before the `block_finished_alert`s of its last blocks as often as not, so blocks are not matched to a
    check as they come, and which download attempt of a piece a block belonged to is not knowable. Hence: a piece
    that passed with no failure in the round proves every peer that sent blocks of it; a piece that failed at least
    once proves no one (its senders get a `Failure`, `sole` when one peer sent all its blocks in the round)."""

    info: TorrentInfo
    exclude_peer_ids: tuple[bytes, ...]
    clock: Callable[[], float]
    senders: dict[int, set[tuple[str, str]]] = field(default_factory=dict)
    """piece → the peers (address, peer id) that sent blocks of it (the Bridge's own left out)."""
    received: dict[int, int] = field(default_factory=dict)
    """piece → blocks received (the Bridge's own included)."""
    passed: dict[int, float] = field(default_factory=dict)
    failed: dict[int, tuple[int, float]] = field(default_factory=dict)
    """piece → (hash failures, time of the last)."""
    connected: set[tuple[str, str]] = field(default_factory=set)
    excluded: set[tuple[str, str]] = field(default_factory=set)

    def ours(self, peer_id: str) -> bool:
        return bytes.fromhex(peer_id).startswith(self.exclude_peer_ids) if self.exclude_peer_ids else False

    def saw(self, peers: Iterable[Any]) -> None:
        self.connected.update((str(peer.ip[0]), _peer_id(peer.pid)) for peer in peers)

    def take(self, alert: Any) -> None:
        if isinstance(alert, lt.block_finished_alert):
            peer = (str(alert.ip[0]), _peer_id(alert.pid))
            self.connected.add(peer)
            self.received[alert.piece_index] = self.received.get(alert.piece_index, 0) + 1
            if self.ours(peer[1]):
                self.excluded.add(peer)  # its bytes pass the check like anyone's, but it is the Bridge itself
            else:
                self.senders.setdefault(alert.piece_index, set()).add(peer)
        elif isinstance(alert, lt.piece_finished_alert):
            self.passed[alert.piece_index] = self.clock()
        elif isinstance(alert, lt.hash_failed_alert):
            count, _ = self.failed.get(alert.piece_index, (0, 0.0))
            self.failed[alert.piece_index] = (count + 1, self.clock())
        elif isinstance(alert, lt.peer_ban_alert):
            log.info("possession: peer %s banned (blocks failing the hash check)", alert.ip)

    def settled(self) -> bool:
        """Whether every block of every checked piece has been reported (the alerts that trail the checks)."""
        for piece in [*self.passed, *self.failed]:
            attempts = self.failed.get(piece, (0, 0.0))[0] + (piece in self.passed)
            if self.received.get(piece, 0) < attempts * _blocks(self.info.piece_size(piece)):
                return False
        return True

    def proofs(self) -> list[Proof]:
        return [
            Proof(address, peer_id, piece, at)
            for piece, at in sorted(self.passed.items())
            if piece not in self.failed
            for address, peer_id in sorted(self.senders.get(piece, ()))
        ]

    def failures(self) -> list[Failure]:
        return [
            Failure(address, peer_id, piece, at, sole=len(self.senders.get(piece, ())) == 1)
            for piece, (_, at) in sorted(self.failed.items())
            for address, peer_id in sorted(self.senders.get(piece, ()))
        ]


def _blocks(size: int) -> int:
    return -(-size // BLOCK)
