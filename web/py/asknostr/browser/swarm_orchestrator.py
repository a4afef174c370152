"""The swarm orchestrator: this browser joins the swarm of every media post of the people the user follows,
keeps the files (IndexedDB) under the user's quota — pruning the least relevant first (asknostr.quota_pruner) —
seeds them again after a reload, and reports what it seeds to the Bridge (NIP-98 heartbeats)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from pyscript import document, window

from asknostr import heartbeat
from asknostr.auto_seed import Join, torrents_to_join
from asknostr.browser import torrents
from asknostr.browser.background import Background
from asknostr.browser.errors import error_text
from asknostr.browser.signed_post import signed_post
from asknostr.browser.signer import Signer
from asknostr.nip01 import Event
from asknostr.quota_pruner import DoesNotFit, Ranks, plan_prune, resume_order
from asknostr.seed_offers import Swarm, plan_offers

PARALLEL_DOWNLOADS = 3
OFFERS_EVERY = 15.0
"""Seconds between two plans of which kept torrents offer to leechers (asknostr.seed_offers)."""


class SwarmOrchestrator:
    def __init__(
        self,
        signer: Signer,
        bridge_url: str,
        *,
        trackers: Callable[[], list[str]],
        following: Callable[[], set[str]],
        quota: Callable[[], int],
        size_cap: Callable[[], int],
        heartbeat_interval: float,
        changed: Callable[[], None],
    ) -> None:
        self.signer, self.bridge_url = signer, bridge_url
        self.trackers, self.following, self.quota, self.size_cap = trackers, following, quota, size_cap
        self.heartbeat_interval = heartbeat_interval
        self.changed = changed
        self.joined: set[str] = set()
        self.favourites: set[str] = set()  # starred creators (IndexedDB): re-seeded first, pruned last
        self.zapped: set[str] = set()  # creators the user zapped (their signed zap requests in receipts)
        self.seeding_for: dict[str, str] = {}  # infoHash -> creator, for "Seeding for [User]"
        self.heartbeats_sent = 0
        self.heartbeat_plan = heartbeat.HeartbeatPlan()  # what the Bridge holds: what each heartbeat reports
        self._slots = asyncio.Semaphore(PARALLEL_DOWNLOADS)
        self._background = Background("swarm")
        self._early: list[Event] | None = []  # events that came before the kept files were known (None: known)

    def ranks(self) -> Ranks:
        return Ranks(frozenset(self.favourites), frozenset(self.zapped), frozenset(self.following()))

    async def start(self) -> int:
        """Seed again what is kept (most relevant first); then heartbeats on their interval. The number resumed."""
        try:
            kept = await torrents.kept()
            self.joined |= {k.info_hash for k in kept}
            self.seeding_for.update({k.info_hash: k.creator for k in kept if k.creator})  # the user's own too
            resumed = await torrents.resume(self.trackers(), resume_order(kept, self.ranks()))
        finally:
            early, self._early = self._early or [], None
            for event in early:  # not before: a kept file would be downloaded again instead of seeded from IndexedDB
                self.on_event(event)
        self.changed()
        self._background.spawn(self._heartbeats())
        self._background.spawn(self._reach_leechers())
        return resumed

    def own_upload(self, info_hash: str, creator: str) -> None:
        """The composer seeds a file the user posts (kept, pinned): marked as seeded like the rest."""
        self.joined.add(info_hash)
        self.seeding_for[info_hash] = creator
        self.changed()

    def on_event(self, event: Event) -> None:
        """A checked event arrived (or the follow list changed and it is looked at again)."""
        if self._early is not None:
            self._early.append(event)
            return
        for join in torrents_to_join(event, self.following(), self.joined, self.size_cap()):
            self.joined.add(join.info_hash)
            self._background.spawn(self._join(join))

    async def _join(self, join: Join) -> None:
        async with self._slots:
            try:
                got = await torrents.fetch(join.magnet, self.trackers(), self.size_cap())
            except Exception as exc:
                window.console.warn(f"not seeding {join.info_hash}: {error_text(exc)}")
                return
        if str(got.infoHash) != join.info_hash or join.creator not in self.following():
            await torrents.forget(str(got.infoHash))  # unfollowed meanwhile
            return
        await self.adopt(join.info_hash, got.blob, str(got.name), join.creator)

    async def adopt(self, info_hash: str, blob: Any, name: str, creator: str, *, playing: bool = False) -> bool:
        """Keep seeding a file this browser has (joined automatically, or viewed), under the quota: the least
        relevant kept files make room, or it is let go when it does not fit (`playing`: the torrent stays until the
        page closes, since a media element is reading it; it is not kept). Whether it is kept."""
        self.joined.add(info_hash)
        kept = await torrents.kept()
        if any(k.info_hash == info_hash for k in kept):
            return True  # already kept (the user's own upload stays pinned)
        try:
            plan = plan_prune(kept, int(blob.size), self.quota(), self.ranks())
        except DoesNotFit as exc:
            window.console.warn(f"not keeping {info_hash}: {exc}")
            if not playing:
                await torrents.forget(info_hash)
            return False
        for stale in plan:
            await torrents.forget(stale)
            self.seeding_for.pop(stale, None)
        await torrents.keep_file(info_hash, blob, name, creator, pinned=False)
        self.seeding_for[info_hash] = creator
        self.changed()
        return True

    async def _reach_leechers(self) -> None:
        """Kept torrents answer the leechers that offer; on this interval, the plan of those that offer too."""
        while True:
            await asyncio.sleep(OFFERS_EVERY)
            try:
                swarms = [
                    Swarm(str(t["infoHash"]), int(t.get("leechers", 0)), int(t.get("leechersConnected", 0)))
                    for t in await torrents.seeding()
                    if t.get("done")
                ]
                plan = plan_offers(swarms, resume_order(await torrents.kept(), self.ranks()))
                await torrents.set_offers(plan)
                document.body.dataset.offering = str(len(plan))  # for tests and devtools
            except Exception as exc:  # the next look will do
                window.console.warn(f"offers not planned: {error_text(exc)}")

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self.send_heartbeat()
                document.body.dataset.heartbeats = str(self.heartbeats_sent)  # for tests and devtools
            except Exception as exc:  # the Bridge away, the signer refusing: the next one will do
                document.body.dataset.heartbeatError = error_text(exc)
                window.console.warn(f"heartbeat not sent: {error_text(exc)}")

    async def send_heartbeat(self) -> None:
        """Tell the Bridge what this page seeds, in a body it accepts however many files are kept: the plan reports
        the ones the Bridge holds and asks about the rest in turn (asknostr.heartbeat)."""
        done = {str(t["infoHash"]): t for t in await torrents.seeding() if t.get("done")}
        if not done:
            return
        added = {k.info_hash: k.added for k in await torrents.kept()}
        # newest first (the Bridge lets old ones go first); one played but not kept is the newest of all
        newest = sorted(done, key=lambda h: added.get(h, math.inf), reverse=True)
        reports = self.heartbeat_plan.next(heartbeat.Report(h, int(done[h].get("numPeers", 0)) + 1) for h in newest)
        if not reports:  # nothing held, nothing due: no request, but the turn goes on (rechecks count heartbeats)
            self.heartbeat_plan.record([], None)
            return
        url = self.bridge_url.rstrip("/") + "/api/heartbeat"
        answer = await signed_post(self.signer, url, heartbeat.body(reports))
        if not answer.ok:
            raise ValueError(f"the Bridge answered {answer.status}: {answer.reason}")
        self.heartbeat_plan.record(reports, heartbeat.held_in((await answer.response.json()).to_py()))
        self.heartbeats_sent += 1
