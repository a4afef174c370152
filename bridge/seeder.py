"""Seeding over WebRTC with libtorrent (built with WebTorrent support): the Bridge's peer in every swarm it holds.

Each torrent's single file is a hard link to the blob in the Blossom store, under `<data_dir>/seeding/<infoHash>/`,
so seeding costs no copy. Pieces are checked before `seed()` is called (bridge.torrent.bad_pieces), hence
seed mode with every piece marked verified: libtorrent does not hash the file again (in seed mode alone it hashes
each piece before its first block leaves, one piece at a time per peer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libtorrent as lt

from bridge.step_back import FULL, StepBack, SwarmView, availability
from bridge.torrent import TorrentInfo

log = logging.getLogger(__name__)

PEER_FINGERPRINT = "-AS0001-"
"""The start of the seeder's peer ids: the possession check (bridge.possession) never counts the Bridge itself."""
ALERT_INTERVAL = 0.25
OFFERS_PER_ANNOUNCE = 20
REANNOUNCE_AFTER_OFFERS = OFFERS_PER_ANNOUNCE // 2
"""Browsers' offers after which a torrent announces again: libtorrent answers no more than OFFERS_PER_ANNOUNCE of them
between two announces (see start), so half of them gone is the time to ask for more."""
OFFER_TIMEOUT = 30
OFFER_LOGS = ("processing remote offer", "rejected offer", "ignored duplicate offer")
"""libtorrent 2.1.1's torrent log lines for an offer that passed its per-announce quota (rtc_signaling.cpp)."""
SEND_BUFFER_LEAST = 1024 * 1024
STEP_BACK_INTERVAL = 1.0
"""Seconds between looks at each swarm's holders (bridge.step_back): a follower's browser that joins gets its first
pieces in about that time."""
SCRAPE_EVERY = 10
"""Step-back passes between two scrapes of the operator's trackers: the tracker counts seeds as they come and go (a
browser's closed socket), but libtorrent hears the count only at its announces, minutes apart."""
SEEDED_FILE = "data"


@dataclass(frozen=True)
class SeedStatus:
    connected_seeds: int
    """Peers connected to the Bridge that have the whole file (a browser seeding the torrent)."""
    peers: int
    uploaded: int
    """Payload bytes sent to peers since the Bridge started seeding it (this run)."""
    announced: bool
    """Whether a tracker has accepted the Bridge's announce (so its scrape counts the Bridge as a seeder)."""
    mode: str = FULL
    """How the Bridge seeds it now (bridge.step_back): full speed, sharing, or a trickle."""


@dataclass
class Seeder:
    root: Path
    stun_server: str = ""
    session: Any = None
    handles: dict[str, Any] = field(default_factory=dict)
    uploaded_before: int = 0
    """Bytes uploaded by torrents no longer seeded (for the /metrics counter)."""
    verify_first_requests: bool = False
    """libtorrent's seed mode as it is: each piece hashed before its first block is sent (bench/bridge_swarm.py's
    baseline for the Bridge without the pieces marked verified)."""
    _alerts: asyncio.Task[None] | None = None
    _offers: dict[str, int] = field(default_factory=dict)
    """Browsers' offers taken per torrent since the Bridge last asked it to announce."""
    _adding: asyncio.Lock = field(default_factory=asyncio.Lock)
    step_back: StepBack = field(default_factory=StepBack)
    modes: dict[str, str] = field(default_factory=dict)
    """Each torrent's step-back mode, as last applied (absent: full speed, as added)."""
    _stepping: asyncio.Task[None] | None = None
    scraper: Callable[[dict[str, list[str]]], Awaitable[dict[str, int]]] | None = None
    """Counts a swarm's seeds at the trackers (bridge.tracker_scrape.scrape_all), for the step-back; None: only
    what libtorrent's announces heard."""
    scrape_trackers: tuple[str, ...] = ()
    """The trackers the scraper asks: the operator's, never a pinger's magnet's."""
    tracker_seeds: dict[str, int] = field(default_factory=dict)
    """The last scrape's seeds per infoHash (the Bridge included, once it announced)."""

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.session = lt.session(
            {
                "listen_interfaces": "0.0.0.0:0,[::]:0",
                "enable_dht": False,
                "enable_lsd": False,
                "enable_upnp": False,
                "enable_natpmp": False,
                "webtorrent_stun_server": self.stun_server,  # '' offline: host candidates only
                "peer_fingerprint": PEER_FINGERPRINT,
                # libtorrent 2.1.1 answers a WebSocket tracker's forwarded offers for a torrent only up to this many
                # between two of its announces (websocket_tracker_connection.cpp: m_offer_quota, set to it at each
                # announce, one taken per offer and never given back, whether its connection opens or not; the
                # tracker asks for an announce every 2 min): at 2 the third browser within 2 min got no answer and
                # played over HTTP. It also bounds the incoming connections still opening (rtc_signaling.cpp, a
                # place held until the channel opens, fails or OFFER_TIMEOUT passes) and is the number of offers the
                # Bridge makes per announce (~1 ms of CPU and a socket each): 20, and _count_offers announces again
                # once half are used, so browsers arriving one after another are all answered
                "max_webtorrent_offers": OFFERS_PER_ANNOUNCE,
                # what an offer or answer nobody uses holds (a socket, a place) is let go after this; a browser gives
                # up ICE in ~15 s and WebTorrent its own offers after 50 s (libtorrent's default: 120 s)
                "webtorrent_connection_timeout": OFFER_TIMEOUT,
                # a browser's channel that opened from the address of a browser already connected (a household, a
                # carrier's NAT; every test browser) was dropped as a duplicate (peer_list.cpp: add_rtc_peer): they
                # are told apart by peer id
                "allow_multiple_connections_per_ip": True,
                # libtorrent keeps a peer's send buffer at what it uploaded in the last second x 50 %, but at least
                # this: from 10 KiB (its default) a transfer of a few seconds ran a block ahead of the disk, and most
                # 16 KiB blocks left as two data-channel messages (the 13-byte header alone: the rtc stream sends
                # what is queued at each write), 60-120 messages per MB for the browser to take; with 1 MiB, 7-20
                # (bench/bridge_swarm.py). A peer's buffer holds no more than it asked for
                "send_buffer_low_watermark": SEND_BUFFER_LEAST,
                # the torrent log says when a browser's offer was taken (_count_offers)
                "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.torrent_log_notification,
            }
        )
        self._alerts = asyncio.get_running_loop().create_task(self._log_alerts())
        self._stepping = asyncio.get_running_loop().create_task(self._step_back_loop())

    async def _step_back_loop(self) -> None:
        passes = 0
        while self.step_back.holders:  # (0: a plain seed, nothing to look at)
            await asyncio.sleep(STEP_BACK_INTERVAL)
            try:
                if passes % SCRAPE_EVERY == 0:
                    await self._scrape()
                passes += 1
                await asyncio.to_thread(self.step_back_pass)  # libtorrent's calls wait for its network thread
            except Exception:  # one bad pass must not end stepping back for good
                log.exception("step-back pass failed")

    async def _scrape(self) -> None:
        if self.scraper is None or not self.scrape_trackers or not self.handles:
            return
        counts = await self.scraper({info_hash: list(self.scrape_trackers) for info_hash in self.handles})
        self.tracker_seeds = counts

    def step_back_pass(self) -> None:
        """Give each torrent the mode bridge.step_back chooses for what the Bridge sees of its swarm now."""
        for info_hash, handle in list(self.handles.items()):
            try:
                self._step_back(info_hash, handle)
            except RuntimeError as exc:  # removed meanwhile (an invalid handle): the others still get theirs
                log.info("step-back of %s: %s", info_hash, exc)

    def _step_back(self, info_hash: str, handle: Any) -> None:
        status = handle.status()
        if not status.is_seeding:  # a take-back still downloading: not the Bridge's to hold back
            return
        bitfields = [peer.pieces for peer in handle.get_peer_info()] if status.num_peers else []
        # the tracker's count of complete peers holds the Bridge itself once it announced
        seeds = self.tracker_seeds.get(info_hash, status.num_complete)
        view = SwarmView(availability(status.num_pieces, bitfields), seeds_elsewhere=max(0, seeds - 1))
        mode = self.step_back.mode(view)
        if self.modes.get(info_hash, FULL) == mode.name:
            return
        handle.set_upload_limit(mode.upload_limit or -1)
        self.modes[info_hash] = mode.name
        log.info("%s: %s (%d peers, %d seeds elsewhere)", info_hash, mode.name, len(bitfields), view.seeds_elsewhere)

    async def _log_alerts(self) -> None:
        while True:
            for alert in self.session.pop_alerts():
                if isinstance(alert, lt.torrent_log_alert):
                    self._count_offers(alert)
                else:
                    log.warning("libtorrent: %s", alert.message())
            await asyncio.sleep(ALERT_INTERVAL)

    def _count_offers(self, alert: Any) -> None:
        """Announce a torrent again once half of its answers are used, which gives it OFFERS_PER_ANNOUNCE more:
        without it, libtorrent ignores every browser's offer past them until the tracker's next interval."""
        message = alert.log_message()
        if not any(line in message for line in OFFER_LOGS):
            return
        info_hash = str(alert.handle.info_hash())  # (a removed torrent's: zeros, not seeded)
        if info_hash not in self.handles:
            return
        taken = self._offers.get(info_hash, 0) + 1
        self._offers[info_hash] = taken
        if taken >= REANNOUNCE_AFTER_OFFERS:
            self._offers[info_hash] = 0
            self.handles[info_hash].force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)

    def seeding(self, info_hash: str) -> bool:
        return info_hash in self.handles

    def copy_path(self, info: TorrentInfo) -> Path:
        """Where the torrent's file is seeded from: a hard link to the blob (or a copy on another file system).

        Under a fixed name, not the torrent's: a name is the pinger's choice (too long for the file system, or
        rewritten by libtorrent), and libtorrent is told the file is there (`renamed_files`)."""
        return self.root / info.info_hash / SEEDED_FILE

    async def seed(self, info: TorrentInfo, blob: Path, trackers: list[str]) -> None:
        """Start seeding `blob` (already checked against `info`) and announcing to `trackers`. Off the event loop:
        the link (or a copy) and libtorrent's add_torrent, which waits for its network thread."""
        async with self._adding:  # one at a time: the same torrent is never added twice
            if info.info_hash not in self.handles:
                self.handles[info.info_hash] = await asyncio.to_thread(self._add, info, blob, trackers)

    def _add(self, info: TorrentInfo, blob: Path, trackers: list[str]) -> Any:
        target = self.copy_path(info)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target != blob and not target.exists():
            try:
                os.link(blob, target)
            except OSError:  # another file system: a copy
                shutil.copyfile(blob, target)
        params = self._params(info, trackers)
        params.flags |= lt.torrent_flags.seed_mode
        if not self.verify_first_requests:
            params.verified_pieces = [True] * len(info.pieces)
        return self.session.add_torrent(params)

    def _params(self, info: TorrentInfo, trackers: list[str]) -> Any:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info({b"info": lt.bdecode(info.info_bytes)})  # type: ignore[call-overload]  # stubs lack it
        params.save_path = str(self.copy_path(info).parent)
        params.renamed_files = {0: SEEDED_FILE}
        params.trackers = trackers
        # started, and not auto-managed: libtorrent's queue would keep all but `active_seeds` (5) torrents paused,
        # unannounced, so a browser would find no Bridge in the swarm of the sixth
        params.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
        return params

    async def fetch(self, info: TorrentInfo, trackers: list[str]) -> Path:
        """Download the torrent from its swarm into the file it is seeded from, libtorrent checking every piece
        against the torrent's SHA-1s, and go on seeding it. Cancelled (a timeout), it keeps nothing."""
        async with self._adding:
            if info.info_hash in self.handles:
                return self.copy_path(info)
            self.copy_path(info).parent.mkdir(parents=True, exist_ok=True)
            handle = await asyncio.to_thread(self.session.add_torrent, self._params(info, trackers))
            self.handles[info.info_hash] = handle
        try:
            while True:  # libtorrent's status polled: its alerts are _log_alerts' to take
                if handle.status().is_seeding:  # every piece downloaded and passed its check
                    break
                await asyncio.sleep(0.25)
        except asyncio.CancelledError:
            self.remove(info.info_hash)
            raise
        return self.copy_path(info)

    def status(self, info_hash: str) -> SeedStatus | None:
        handle = self.handles.get(info_hash)
        if handle is None:
            return None
        status = handle.status()
        announced = any(tracker.get("verified") for tracker in handle.trackers())
        mode = self.modes.get(info_hash, FULL)
        return SeedStatus(status.num_seeds, status.num_peers, status.total_payload_upload, announced, mode)

    def remove(self, info_hash: str) -> None:
        """Stop seeding `info_hash` and delete its hard link (the blob itself is the store's)."""
        handle = self.handles.pop(info_hash, None)
        if handle is not None:
            self.uploaded_before += handle.status().total_payload_upload  # the counter never goes down
            self.session.remove_torrent(handle)
        self._offers.pop(info_hash, None)
        self.modes.pop(info_hash, None)
        shutil.rmtree(self.root / info_hash, ignore_errors=True)

    async def close(self) -> None:
        for task in (self._alerts, self._stepping):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.handles.clear()
        self.session = None
