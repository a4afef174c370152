"""Seeding ownership in a fleet of Bridges: each torrent is seeded by exactly one instance, the holder of its lease;
a handed-off torrent is watched by one (bridge.takeback).

A lease is two columns of the torrent's row (owner, lease_until), so it lives as long as the instance renews it.
Every `Member.interval` seconds an instance:
- renews its leases, and stops seeding any torrent whose lease another instance took (this one was too slow to
  renew: a pause, a partition) or that another instance handed off;
- claims torrents whose lease ran out (their instance died) or that never had one, in batches, and seeds them from
  the object store (bridge.s3_blobs);
- drops the cache copies of blobs it does not seed (after a short grace, so the ping that follows an upload finds
  the copy), and at once those whose blob is gone.
A clean shutdown releases its leases, so the others take over at their next round rather than after the lease.

A single Bridge on SQLite runs the same rounds: it claims every torrent at start and renews them alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.db import SEEDING, TorrentRow

if TYPE_CHECKING:
    from bridge.swarm import SwarmKeeper

log = logging.getLogger(__name__)

DELETION_GRACE = 60
"""Seconds a blob file's owed deletion is left to the instance that owes it, before the rounds settle it."""
CACHE_GRACE = 600
"""Seconds a cache copy of a blob this instance does not seed is kept (an upload's, for the ping after it)."""


@dataclass(frozen=True)
class Member:
    """This instance: its name in the fleet (the leases' owner) and how long its leases last."""

    name: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    lease_ttl: float = 30.0
    claim_batch: int = 100

    @property
    def interval(self) -> float:
        """Seconds between rounds: a third of a lease, so two rounds can fail before the lease runs out."""
        return self.lease_ttl / 3

    def lease_until(self, now: int) -> int:
        return now + int(self.lease_ttl)


def instance_name(data_dir: Path) -> str:
    """This instance's name, kept in `<data_dir>/instance` so a restart finds its own leases again."""
    path = data_dir / "instance"
    try:
        name = path.read_text().strip()
    except FileNotFoundError:
        name = ""
    if not name:
        name = f"{os.uname().nodename[:40]}-{uuid.uuid4().hex[:8]}"
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(name + "\n")
    return name


async def claim_all(keeper: SwarmKeeper) -> int:
    """Claim and seed, batch after batch, every torrent no live lease holds; the number seeded."""
    db, member = keeper.database(), keeper.member
    seeded = 0
    while True:
        now = keeper.now()
        rows = await db.claim_torrents(member.name, now, member.lease_until(now), member.claim_batch)
        for row in rows:
            if row.state == SEEDING and await _seed(keeper, row):
                seeded += 1
        if len(rows) < member.claim_batch:
            return seeded


async def _seed(keeper: SwarmKeeper, row: TorrentRow) -> bool:
    """Start seeding one held torrent; a failure is this torrent's (logged: its lease lapses or is retried),
    never the round's."""
    try:
        return await keeper.start_seeding(row)
    except Exception:
        log.exception("torrent %s: could not start seeding it", row.info_hash)
        return False


async def renew(keeper: SwarmKeeper) -> dict[str, str]:
    """Say this instance is alive, extend its leases, and stop seeding what is no longer its own; what it holds."""
    db, member = keeper.database(), keeper.member
    await db.saw_instance(member.name, keeper.now())
    held = await db.renew_leases(member.name, member.lease_until(keeper.now()))
    for info_hash in [h for h in keeper.seeded_blobs if held.get(h) != SEEDING]:
        log.info("torrent %s: no longer seeded here (lease taken over, or handed off)", info_hash)
        await keeper.stop_seeding(info_hash)
    return held


async def lease_round(keeper: SwarmKeeper) -> None:
    """One round: renew, seed what this instance holds but does not seed (after a restart: all its own, under its
    kept name; or a blob that was unreachable), claim what nobody holds, trim the cache."""
    held = await renew(keeper)
    for info_hash in [h for h, state in held.items() if state == SEEDING and h not in keeper.seeded_blobs]:
        row = await keeper.database().get_torrent(info_hash)
        if row is not None:
            await _seed(keeper, row)
    await claim_all(keeper)
    await trim_cache(keeper)
    await settle_deletions(keeper)


async def settle_deletions(keeper: SwarmKeeper) -> None:
    """Delete the blob files still owed a deletion a minute after it was owed (its instance failed or died between
    the rows' deletion and the file's), unless the blob is back in use (uploaded again, seeded again)."""
    db, storage = keeper.database(), keeper.storage
    for sha256 in await db.deletions_due(keeper.now() - DELETION_GRACE):
        try:
            async with storage.blob_lock(sha256):
                if await db.blob_in_use(sha256):
                    await db.deletion_done(sha256)
                else:
                    await storage.delete_blob_file(sha256)
                    log.info("blob %s: its owed deletion done", sha256)
        except Exception:
            log.exception("blob %s: its owed deletion failed again; tried at the next round", sha256)


async def trim_cache(keeper: SwarmKeeper) -> None:
    """Drop the cache copies of blobs this instance does not seed: at once when the blob is gone (deleted, or
    handed off), after CACHE_GRACE otherwise. Each under the blob's lock, checked again there: never the copy an
    upload is recording or a ping is about to seed. Only with a shared object store: on a disk of its own, the copy
    is the blob."""
    storage = keeper.storage
    if not storage.store.shared:
        return
    cached = await asyncio.to_thread(storage.store.cached)
    others = {sha256: mtime for sha256, mtime in cached.items() if sha256 not in set(keeper.seeded_blobs.values())}
    if not others:
        return
    stored = await keeper.database().existing_blobs(list(others))
    now = time.time()  # file times are the real clock's
    for sha256 in [h for h, mtime in others.items() if h not in stored or now - mtime > CACHE_GRACE]:
        async with storage.blob_lock(sha256):
            seeded = sha256 in keeper.seeded_blobs.values()
            if not seeded and (sha256 in stored or not await keeper.database().existing_blobs([sha256])):
                await storage.store.drop_local(sha256)


@dataclass
class LeaseJob:
    """Two loops, every `member.interval` seconds from `start` to `close`: renewals alone (never behind a round that
    fetches many blobs, so no lease runs out while it does), and the rest of the rounds."""

    keeper: SwarmKeeper
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._renewing()), loop.create_task(self._rounds())]

    async def _renewing(self) -> None:
        member = self.keeper.member
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(member.interval)
            try:
                await renew(self.keeper)
                renewed = time.monotonic()
            except Exception:  # the database is unreachable from here
                log.exception("renewing the leases failed; trying again in %.0f s", member.interval)
                if time.monotonic() - renewed > member.lease_ttl and self.keeper.seeded_blobs:
                    # the leases ran out: other instances may seed these torrents now; one seeder each
                    log.error("leases lost: no longer seeding %d torrents", len(self.keeper.seeded_blobs))
                    for info_hash in list(self.keeper.seeded_blobs):
                        await self.keeper.stop_seeding(info_hash)

    async def _rounds(self) -> None:
        while True:
            await asyncio.sleep(self.keeper.member.interval)
            try:
                await lease_round(self.keeper)
            except Exception:  # the database or the object store is down: the next round tries again
                log.exception("lease round failed; trying again in %.0f s", self.keeper.member.interval)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self.keeper.database().release_leases(self.keeper.member.name)
        except Exception:  # a shutdown with the database down: the leases run out by themselves
            log.warning("could not release this instance's leases; they expire in %.0f s", self.keeper.member.lease_ttl)
