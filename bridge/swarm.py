"""The Bridge's part in each swarm it holds: seed it, resume it after a restart, watch its health, hand it off.

`SwarmKeeper` ties the libtorrent seeder, the heartbeat votes, the possession check (bridge.possession) and the
database together. Its retention pass runs on an interval: a torrent older than the policy's age whose claimed
seeders exceed the policy's count is checked (a round of the possession check); when the seeders that proved they
hold it exceed that count, it is no longer seeded, its file is deleted, and the handoff is recorded. Until then
nothing is deleted. The clock is injectable (tests move it a day forward).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bridge.db import HANDED_OFF, MISSING, SEEDING, Database, TorrentRow
from bridge.possession import PossessionVerifier
from bridge.seeder import Seeder, SeedStatus
from bridge.storage import Storage
from bridge.swarm_health import (
    HandoffPolicy,
    Observed,
    ProofBook,
    Report,
    VoteBook,
    claimed_seeders,
    tracker_seeders_besides_us,
)
from bridge.torrent import TorrentError, TorrentInfo, parse_torrent
from bridge.tracker_scrape import scrape_all

log = logging.getLogger(__name__)

Scraper = Callable[[dict[str, list[str]]], Awaitable[dict[str, int]]]


@dataclass
class Counters:
    heartbeats: int = 0
    heartbeat_reports: int = 0
    heartbeats_refused: dict[str, int] = field(default_factory=dict)
    handoffs: int = 0
    retention_passes: int = 0
    possession_rounds: int = 0

    def refused(self, reason: str) -> None:
        self.heartbeats_refused[reason] = self.heartbeats_refused.get(reason, 0) + 1


@dataclass
class SwarmKeeper:
    storage: Storage
    seeder: Seeder
    votes: VoteBook
    verifier: PossessionVerifier
    proofs: ProofBook
    policy: HandoffPolicy = field(default_factory=HandoffPolicy)
    clock: Callable[[], float] = time.time
    scraper: Scraper = scrape_all
    scrape_trackers: tuple[str, ...] = ()
    """The trackers whose scrape the Bridge trusts: the operator's (--tracker), never a pinger's magnet's."""
    tracker_seeders: dict[str, int] = field(default_factory=dict)
    """The last scrape's seeders per infoHash (the Bridge itself taken off)."""
    known: set[str] = field(default_factory=set)
    """infoHashes the Bridge has a record of: heartbeats about others are ignored."""
    counters: Counters = field(default_factory=Counters)
    _job: asyncio.Task[None] | None = None
    _expired_at: float = 0.0

    def database(self) -> Database:
        return self.storage.db

    async def seed(self, info: TorrentInfo, path: Path, trackers: list[str]) -> None:
        """Seed a checked file; a torrent handed off earlier is taken back (its `created` stays)."""
        await self.database().reseed(info.info_hash)
        await self.seeder.seed(info, path, trackers)
        self.known.add(info.info_hash)

    async def resume(self) -> int:
        """After a start: seed again every torrent not handed off whose file is still here; the number resumed."""
        resumed = 0
        for row in await self.database().torrents():
            self.known.add(row.info_hash)
            if row.state != SEEDING:
                continue
            try:
                info = parse_torrent(row.info)
            except TorrentError as exc:
                log.error("torrent %s: stored info dict unreadable (%s); not seeded", row.info_hash, exc)
                await self.database().set_torrent_state(row.info_hash, MISSING)
                continue
            path = await self._copy_of(row, info)
            if path is None:
                log.error("torrent %s: its file (blob %s) is gone; not seeded", row.info_hash, row.sha256)
                await self.database().set_torrent_state(row.info_hash, MISSING)
                continue
            try:
                await self.seeder.seed(info, path, row.trackers)
            except (OSError, RuntimeError) as exc:  # one bad row must not keep the Bridge from starting
                log.error("torrent %s: cannot seed it again (%s)", row.info_hash, exc)
                await self.database().set_torrent_state(row.info_hash, MISSING)
                continue
            resumed += 1
        return resumed

    async def _copy_of(self, row: TorrentRow, info: TorrentInfo) -> Path | None:
        """A file of the blob (from the object store if this disk has none), or the seeding link to it (kept when
        the blob was deleted through Blossom meanwhile)."""
        blob = await self.storage.store.local_copy(row.sha256)

        def complete(path: Path | None) -> bool:
            return path is not None and path.is_file() and path.stat().st_size == info.length

        if await asyncio.to_thread(complete, blob):
            return blob
        link = self.seeder.copy_path(info)
        return link if await asyncio.to_thread(complete, link) else None

    def heartbeat(self, pubkey: str, reports: list[Report]) -> list[str]:
        """Record a checked heartbeat's votes; the infoHashes counted — reports about unknown torrents are ignored."""
        mine = [report for report in reports if report.info_hash in self.known]
        now = self.clock()
        if now - self._expired_at >= self.votes.ttl:  # memory follows the live votes, retention job or not
            self.votes.expire(now)
            self._expired_at = now
        self.votes.record(pubkey, mine, now)
        self.counters.heartbeats += 1
        self.counters.heartbeat_reports += len(mine)
        return [report.info_hash for report in mine]

    def observed(self, info_hash: str, status: SeedStatus | None = None) -> Observed:
        """What the Bridge sees of the swarm (`status`: the seeder's, when the caller already has it)."""
        status = status or self.seeder.status(info_hash)
        return Observed(status.connected_seeds if status else 0, self.tracker_seeders.get(info_hash))

    def claimed(self, info_hash: str, now: float) -> int:
        return claimed_seeders(self.votes.voters(info_hash, now), self.observed(info_hash))

    async def check_possession(self, row: TorrentRow) -> int:
        """One round of the possession check on `row`'s swarm; the seeders proven (within the proofs' window)."""
        info = parse_torrent(row.info)
        result = await self.verifier.verify(info, row.trackers)
        now = self.clock()
        self.proofs.record(row.info_hash, result.proofs, result.failures, now)
        self.counters.possession_rounds += 1
        proven = self.proofs.proven(row.info_hash, now)
        log.info(
            "torrent %s: possession round, %d of %d pieces checked, %d proofs, %d failures; %d seeders proven",
            row.info_hash,
            len(result.verified),
            len(result.pieces),
            len(result.proofs),
            len(result.failures),
            proven,
        )
        return proven

    async def observe(self, rows: list[TorrentRow]) -> None:
        """Scrape the trackers of `rows` and keep their seeder counts, the Bridge's own announce taken off."""
        counts = await self.scraper({row.info_hash: list(self.scrape_trackers) for row in rows})
        for row in rows:
            if row.info_hash in counts:
                status = self.seeder.status(row.info_hash)
                ours = status is not None and status.announced  # then the scrape counts the Bridge too
                self.tracker_seeders[row.info_hash] = tracker_seeders_besides_us(counts[row.info_hash], ours)
            else:
                self.tracker_seeders.pop(row.info_hash, None)

    async def retention_pass(self) -> list[str]:
        """One run of the retention job; the infoHashes handed off."""
        now = self.clock()
        self.votes.expire(now)
        seeding = await self.database().torrents(SEEDING)
        candidates = [row for row in seeding if now - row.created > self.policy.min_age]
        if candidates:
            await self.observe(candidates)
        handed: list[str] = []
        for row in candidates:
            if self.claimed(row.info_hash, now) <= self.policy.min_seeders:
                continue  # not even claimed: not worth a check
            try:
                proven = await self.check_possession(row)
            except (TorrentError, RuntimeError, OSError) as exc:
                log.error("torrent %s: possession check failed (%s); kept", row.info_hash, exc)
                continue
            if self.policy.hand_off(created=row.created, now=self.clock(), active=proven):
                await self.hand_off(row, proven, int(self.clock()))
                handed.append(row.info_hash)
        self.counters.retention_passes += 1
        return handed

    async def hand_off(self, row: TorrentRow, active: int, now: int) -> None:
        self.seeder.remove(row.info_hash)
        async with self.storage.lock:
            if await self.database().hand_off(row.info_hash, now, active):
                await self.storage.store.delete(row.sha256)
        self.votes.forget(row.info_hash)
        self.proofs.forget(row.info_hash)
        self.tracker_seeders.pop(row.info_hash, None)
        self.counters.handoffs += 1
        log.info("torrent %s handed off to the swarm (%d seeders proved they hold it)", row.info_hash, active)

    def start(self, interval: float) -> None:
        """Run the retention pass every `interval` seconds (0: never; tests call `retention_pass`)."""
        if interval > 0:
            self._job = asyncio.get_running_loop().create_task(self._run(interval))

    async def _run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.retention_pass()
            except Exception:
                log.exception("retention pass failed; retrying in %s s", interval)

    async def close(self) -> None:
        if self._job is not None:
            self._job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._job

    async def status(self, info_hash: str) -> dict[str, object] | None:
        """The operator's view of one torrent."""
        row = await self.database().get_torrent(info_hash)
        if row is None:
            return None
        now = self.clock()
        seed = self.seeder.status(info_hash)
        observed = self.observed(info_hash, seed)
        voters = self.votes.voters(info_hash, now)
        return {
            "info_hash": row.info_hash,
            "name": row.name,
            "sha256": row.sha256,
            "size": row.size,
            "created": row.created,
            "age": max(0, int(now - row.created)),
            "state": row.state,
            "trackers": row.trackers,
            "seeders": {
                "active": self.proofs.proven(info_hash, now) if row.state == SEEDING else row.handoff_seeders,
                "claimed": claimed_seeders(voters, observed) if row.state == SEEDING else None,
                "heartbeat_keys": voters,
                "claimed_median": self.votes.claimed_median(info_hash, now),
                "connected_to_bridge": observed.connected_seeds,
                "tracker": observed.tracker_seeders,
            },
            "peers": seed.peers if seed else 0,
            "announced": seed.announced if seed else False,
            "uploaded": seed.uploaded if seed else 0,
            "handed_off": row.handed_off,
            "handoff": {"min_seeders": self.policy.min_seeders, "min_age": self.policy.min_age}
            if row.state != HANDED_OFF
            else None,
        }


SWARM_KEY = web.AppKey("swarm", SwarmKeeper)
