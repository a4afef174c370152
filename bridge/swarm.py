"""The Bridge's part in each swarm it holds: seed it, resume it after a restart, watch its health, hand it off.

`SwarmKeeper` ties the libtorrent seeder, the heartbeat votes, the possession check (bridge.possession) and the
database together. Its retention pass runs on an interval: a torrent older than the policy's age whose claimed
seeders exceed the policy's count is checked (a round of the possession check); when the seeders that proved they
hold it exceed that count, it is no longer seeded, its file is deleted, and the handoff is recorded. Until then
nothing is deleted. The clock is injectable (tests move it a day forward).

In a fleet (Bridges sharing one database and object store) each torrent is seeded by one instance, which holds a
lease on it (bridge.fleet); votes are rows any instance writes, and a handoff happens once, whoever asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bridge import leases, takeback
from bridge.db import HANDED_OFF, MISSING, SEEDING, Database, TorrentRow
from bridge.errors import BridgeError
from bridge.leases import Member
from bridge.possession import PossessionVerifier
from bridge.seeder import Seeder, SeedStatus
from bridge.storage import Storage
from bridge.swarm_health import (
    HandoffPolicy,
    Observed,
    ProofBook,
    Report,
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
    take_backs: int = 0
    """Handed-off torrents downloaded back from their swarm and seeded again."""
    blobs_deleted: int = 0
    """Blobs this instance deleted at a handoff (once per blob in the whole fleet)."""
    retention_passes: int = 0
    possession_rounds: int = 0

    def refused(self, reason: str) -> None:
        self.heartbeats_refused[reason] = self.heartbeats_refused.get(reason, 0) + 1


@dataclass
class SwarmKeeper:
    storage: Storage
    seeder: Seeder
    verifier: PossessionVerifier
    proofs: ProofBook
    votes_ttl: float = 180.0
    """Seconds a heartbeat's vote counts."""
    policy: HandoffPolicy = field(default_factory=HandoffPolicy)
    clock: Callable[[], float] = time.time
    scraper: Scraper = scrape_all
    scrape_trackers: tuple[str, ...] = ()
    """The trackers whose scrape the Bridge trusts: the operator's (--tracker), never a pinger's magnet's."""
    member: Member = field(default_factory=Member)
    """This instance of the fleet: its name, and how long its leases last."""
    tracker_seeders: dict[str, int] = field(default_factory=dict)
    """The last scrape's seeders per infoHash (the Bridge itself taken off)."""
    seeded_blobs: dict[str, str] = field(default_factory=dict)
    """The blob (sha256) of each torrent this instance seeds."""
    counters: Counters = field(default_factory=Counters)
    _job: asyncio.Task[None] | None = None

    def database(self) -> Database:
        return self.storage.db

    def now(self) -> int:
        return int(self.clock())

    async def seed(self, info: TorrentInfo, sha256: str, path: Path, trackers: list[str]) -> bool:
        """Seed a checked file (blob `sha256`) unless another live instance holds the torrent's lease (it seeds it,
        then); a torrent handed off earlier is taken back (its `created` stays). Whether this instance seeds it."""
        db, now = self.database(), self.now()
        if not await db.take_lease(info.info_hash, self.member.name, now, self.member.lease_until(now)):
            return False
        await self.seeder.seed(info, path, trackers)
        self.seeded_blobs[info.info_hash] = sha256
        return True

    async def start_seeding(self, row: TorrentRow) -> bool:
        """Seed a torrent this instance has just claimed, from the blob (fetched from the object store if this
        disk has no copy); a torrent whose file is gone is recorded missing. Whether it is seeded."""
        try:
            info = parse_torrent(row.info)
        except TorrentError as exc:
            log.error("torrent %s: stored info dict unreadable (%s); not seeded", row.info_hash, exc)
            await self.database().set_torrent_state(row.info_hash, MISSING)
            return False
        try:
            path = await self._copy_of(row, info)
        except BridgeError as exc:  # the object store is down: the lease lapses, this or another instance retries
            log.warning("torrent %s: cannot fetch its blob now (%s)", row.info_hash, exc)
            return False
        if path is None:
            log.error("torrent %s: its file (blob %s) is gone; not seeded", row.info_hash, row.sha256)
            await self.database().set_torrent_state(row.info_hash, MISSING)
            return False
        try:
            await self.seeder.seed(info, path, row.trackers)
        except (OSError, RuntimeError) as exc:  # one bad row must not keep the Bridge from starting
            log.error("torrent %s: cannot seed it again (%s)", row.info_hash, exc)
            await self.database().set_torrent_state(row.info_hash, MISSING)
            return False
        self.seeded_blobs[row.info_hash] = row.sha256
        return True

    async def stop_seeding(self, info_hash: str) -> None:
        """This instance no longer seeds `info_hash` (its lease went to another, or the torrent was handed off)."""
        self.seeder.remove(info_hash)
        self.seeded_blobs.pop(info_hash, None)
        self.proofs.forget(info_hash)
        self.tracker_seeders.pop(info_hash, None)

    async def resume(self) -> int:
        """After a start: a lease round, which seeds this instance's own torrents of before the restart and claims
        every torrent no live instance holds; the number now seeded."""
        await leases.lease_round(self)
        return len(self.seeded_blobs)

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

    async def heartbeat(self, pubkey: str, reports: list[Report]) -> list[str]:
        """Record a checked heartbeat's votes; the infoHashes counted — reports about unknown torrents are ignored."""
        db = self.database()
        known = await db.known_torrents([report.info_hash for report in reports])
        mine = [report for report in reports if report.info_hash in known]
        await db.record_votes(pubkey, [(report.info_hash, report.seeders) for report in mine], self.now())
        self.counters.heartbeats += 1
        self.counters.heartbeat_reports += len(mine)
        return [report.info_hash for report in mine]

    async def votes(self, info_hash: str, now: float) -> list[int]:
        """The seeder counts the live votes on `info_hash` claim (one vote per pubkey)."""
        return await self.database().live_votes(info_hash, int(now - self.votes_ttl))

    def observed(self, info_hash: str, status: SeedStatus | None = None) -> Observed:
        """What the Bridge sees of the swarm (`status`: the seeder's, when the caller already has it)."""
        status = status or self.seeder.status(info_hash)
        return Observed(status.connected_seeds if status else 0, self.tracker_seeders.get(info_hash))

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
        """One run of the retention job over the torrents this instance seeds; the infoHashes handed off."""
        now = self.clock()
        await self.database().expire_votes(int(now - self.votes_ttl))
        seeding = await self.database().torrents(SEEDING)
        candidates = [
            row for row in seeding if row.owner == self.member.name and now - row.created > self.policy.min_age
        ]
        if candidates:
            await self.observe(candidates)
        voters = await self.database().voter_counts(int(now - self.votes_ttl)) if candidates else {}
        handed: list[str] = []
        for row in candidates:
            claimed = claimed_seeders(voters.get(row.info_hash, 0), self.observed(row.info_hash))
            if claimed <= self.policy.min_seeders:
                continue  # not even claimed: not worth a check
            try:
                proven = await self.check_possession(row)
            except (TorrentError, RuntimeError, OSError) as exc:
                log.error("torrent %s: possession check failed (%s); kept", row.info_hash, exc)
                continue
            due = self.policy.hand_off(created=row.created, now=self.clock(), active=proven)
            if due and await self.hand_off(row, proven, self.now()):
                handed.append(row.info_hash)
        self.counters.retention_passes += 1
        return handed

    async def hand_off(self, row: TorrentRow, active: int, now: int) -> bool:
        """Let the swarm have `row`'s torrent: recorded once in the fleet (whoever else asks at the same time), its
        blob deleted once (object and copies) when no seeded torrent still uses it. Whether this call did it."""
        async with self.storage.blob_lock(row.sha256):
            handoff = await self.database().hand_off(row.info_hash, now, active, self.member.name)
            await self.stop_seeding(row.info_hash)
            if handoff.delete_blob:
                await self.storage.delete_blob_file(row.sha256)
                self.counters.blobs_deleted += 1
        if not handoff.done:
            log.info("torrent %s: already handed off (by another instance)", row.info_hash)
            return False
        self.counters.handoffs += 1
        log.info("torrent %s handed off to the swarm (%d seeders proved they hold it)", row.info_hash, active)
        return True

    def start(self, interval: float) -> None:
        """Run the retention pass every `interval` seconds (0: never; tests call `retention_pass`)."""
        if interval > 0:
            self._job = asyncio.get_running_loop().create_task(self._run(interval))

    async def _run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.retention_pass()
                await takeback.watch_pass(self)
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
        claims = await self.votes(info_hash, now)
        voters = len(claims)
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
                "claimed_median": statistics.median(claims) if claims else None,
                "connected_to_bridge": observed.connected_seeds,
                "tracker": observed.tracker_seeders,
            },
            "peers": seed.peers if seed else 0,
            "announced": seed.announced if seed else False,
            "uploaded": seed.uploaded if seed else 0,
            "bridge_mode": seed.mode if seed else None,
            "handed_off": row.handed_off,
            "seeded_by": row.owner if row.state == SEEDING else None,
            "handoff": {"min_seeders": self.policy.min_seeders, "min_age": self.policy.min_age}
            if row.state != HANDED_OFF
            else None,
        }


SWARM_KEY = web.AppKey("swarm", SwarmKeeper)
