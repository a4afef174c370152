"""Real BitTorrent peers for the Bridge's tests: libtorrent sessions seeding one file over WebTorrent (WebRTC,
through the tracker), as a browser seeding it would."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import libtorrent as lt

from bridge.torrent import TorrentInfo


class LtSeeder:
    """A libtorrent session seeding one file over WebTorrent (seed mode: it believes the file is whole and right)."""

    def __init__(
        self, fingerprint: bytes, path: Path, info: TorrentInfo, tracker: str, *, seed_mode: bool = True
    ) -> None:
        self.session: Any = lt.session(
            {
                "listen_interfaces": "127.0.0.1:0",
                "enable_dht": False,
                "enable_lsd": False,
                "enable_upnp": False,
                "enable_natpmp": False,
                "webtorrent_stun_server": "",
                "peer_fingerprint": fingerprint.decode(),
                # every peer here has the same address: by default libtorrent keeps one connection per address
                "allow_multiple_connections_per_ip": True,
                # libtorrent answers no more incoming offers per torrent than this (seen here: with the default 10 a
                # seeder stops answering the verifier after ten rounds); browsers have no such cap
                "max_webtorrent_offers": 30,
                "alert_mask": 0,
            }
        )
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info({b"info": lt.bdecode(info.info_bytes)})  # type: ignore[call-overload]
        params.save_path = str(path.parent)
        params.renamed_files = {0: path.name}
        params.trackers = [tracker]
        if seed_mode:
            params.flags |= lt.torrent_flags.seed_mode
        params.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
        self.handle = self.session.add_torrent(params)

    def wait_seeding(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not self.handle.status().is_seeding:
            assert time.monotonic() < deadline, "the file was not checked in time"
            time.sleep(0.05)

    def uploaded(self) -> int:
        return int(self.handle.status().total_payload_upload)

    def close(self) -> None:
        self.session.remove_torrent(self.handle)
        self.session = None
