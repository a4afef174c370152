"""Seeding over WebRTC with libtorrent (built with WebTorrent support): the Bridge's peer in every swarm it holds.

Each torrent's single file is a hard link to the blob in the Blossom store, under `<data_dir>/seeding/<infoHash>/`,
so seeding costs no copy. Pieces are checked before `seed()` is called (bridge.torrent.bad_pieces), hence
seed mode: libtorrent does not hash the file again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libtorrent as lt

from bridge.torrent import TorrentInfo


@dataclass
class SeedStats:
    added: float
    first_upload: float | None = None
    peers: int = 0
    uploaded: int = 0


@dataclass
class Seeder:
    root: Path
    stun_server: str = ""
    session: Any = None
    handles: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, SeedStats] = field(default_factory=dict)
    _poller: asyncio.Task[None] | None = None

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
                "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
            }
        )
        self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            self.session.pop_alerts()
            now = time.monotonic()
            for info_hash, handle in self.handles.items():
                status = handle.status()
                stats = self.stats[info_hash]
                stats.peers, stats.uploaded = status.num_peers, status.total_payload_upload
                if stats.uploaded and stats.first_upload is None:
                    stats.first_upload = now
            await asyncio.sleep(0.2)

    def seed(self, info: TorrentInfo, blob: Path, trackers: list[str]) -> None:
        """Start seeding `blob` (already checked against `info`) and announcing to `trackers`."""
        if info.info_hash in self.handles:
            return
        folder = self.root / info.info_hash
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / info.name
        if not target.exists():
            try:
                os.link(blob, target)
            except OSError:  # another file system: a copy
                shutil.copyfile(blob, target)
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info({b"info": lt.bdecode(info.info_bytes)})  # type: ignore[call-overload]  # stubs lack it
        params.save_path = str(folder)
        params.trackers = trackers
        params.flags |= lt.torrent_flags.seed_mode
        self.handles[info.info_hash] = self.session.add_torrent(params)
        self.stats[info.info_hash] = SeedStats(added=time.monotonic())

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        self.handles.clear()
        self.session = None
