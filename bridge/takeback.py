"""Undoing a handoff: the Bridge takes a torrent back from its swarm before the swarm's last copy disappears.

After a handoff the only copies are in browsers, which prune and close. The instance holding a handed-off
torrent's lease (bridge.leases) watches its swarm on the retention job's interval: a round of the possession check
(bridge.possession) counts the seeders that prove they hold it *now* (this round's proofs only: an old proof says
nothing of a seeder that has left). When fewer than the policy's floor prove it, the Bridge downloads the file
back from them as a BitTorrent peer (libtorrent checks every piece against the torrent), checks its SHA-256
against the blob it was, stores it again (the post's `url` answers again) and seeds it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from bridge import blob_policy
from bridge.blob_store import Received
from bridge.db import HANDED_OFF, BlobRow, TorrentRow
from bridge.swarm_health import proven_seeders
from bridge.torrent import TorrentError, parse_torrent

if TYPE_CHECKING:
    from bridge.swarm import SwarmKeeper

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 600.0
"""Seconds a take-back download may take (a large file from one slow browser) before it is tried at the next pass."""


async def watch_pass(keeper: SwarmKeeper) -> list[str]:
    """Check the swarm of every handed-off torrent this instance watches; the infoHashes taken back."""
    rows = [row for row in await keeper.database().torrents(HANDED_OFF) if row.owner == keeper.member.name]
    taken: list[str] = []
    for row in rows:
        try:
            active = await seeders_now(keeper, row)
        except (TorrentError, RuntimeError, OSError) as exc:
            log.error("torrent %s: possession check failed (%s); checked again next time", row.info_hash, exc)
            continue
        if active == 0:
            log.error("torrent %s: no seeder proves it holds the file any more; it cannot be taken back", row.info_hash)
            continue
        if not keeper.policy.take_back(active=active):
            continue
        try:
            if await take_back(keeper, row):
                taken.append(row.info_hash)
        except Exception:  # the object store or the database failed: nothing kept, tried again next pass
            log.exception("torrent %s: taking it back failed", row.info_hash)
    return taken


async def seeders_now(keeper: SwarmKeeper, row: TorrentRow) -> int:
    """The seeders that prove, in one round now, that they hold `row`'s file."""
    result = await keeper.verifier.verify(parse_torrent(row.info), row.trackers)
    keeper.counters.possession_rounds += 1
    now = keeper.clock()
    return proven_seeders(result.proofs, result.failures, now=now, window=float("inf"), per_peer=keeper.proofs.per_peer)


async def take_back(keeper: SwarmKeeper, row: TorrentRow) -> bool:
    """Download `row`'s file from its swarm, check it is the blob it was, store and seed it again; whether done."""
    info = parse_torrent(row.info)
    log.info("torrent %s: too few seeders left; taking it back from the swarm", row.info_hash)
    try:
        async with asyncio.timeout(DOWNLOAD_TIMEOUT):
            path = await keeper.seeder.fetch(info, row.trackers)
    except TimeoutError:
        log.warning("torrent %s: the swarm did not give the whole file; tried again next time", row.info_hash)
        return False
    if await asyncio.to_thread(_sha256, path) != row.sha256:  # the pieces passed, so the torrent was not this blob
        log.error("torrent %s: downloaded back, but it is not blob %s; not stored", row.info_hash, row.sha256)
        keeper.seeder.remove(row.info_hash)
        return False
    store = keeper.storage.store
    staged = store.tmp / f"takeback-{row.info_hash}"
    try:
        await asyncio.to_thread(_link, path, staged)  # the store moves its own name for the file, not the seeded one
        received = Received(staged, row.sha256, row.size)
        await store.prepare(received)
        db = keeper.database()
        async with keeper.storage.blob_lock(row.sha256):
            await store.commit(received)
            now = keeper.now()
            blob = BlobRow(row.sha256, row.size, blob_policy.type_of_name(row.name), now)
            await db.add_blob(blob, row.pinged_by, now)
            if not await db.take_lease(row.info_hash, keeper.member.name, now, keeper.member.lease_until(now)):
                keeper.seeder.remove(row.info_hash)  # another instance seeds it already (a ping brought it back)
                return True
    except BaseException:
        keeper.seeder.remove(row.info_hash)  # no seeding handle left that nothing tracks
        raise
    finally:
        await asyncio.to_thread(staged.unlink, missing_ok=True)  # committed: moved; else: not left behind
    keeper.seeded_blobs[row.info_hash] = row.sha256
    keeper.counters.take_backs += 1
    log.info("torrent %s taken back from the swarm: stored and seeded again", row.info_hash)
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _link(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copyfile(source, target)
