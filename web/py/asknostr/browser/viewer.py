"""The viewer: which of a post's media stream through this app, swarms joined ahead for what comes into view, and
a playback (playback.py: P2P first, HTTP when the swarm cannot serve) started when an element asks for its bytes.
Video and audio stream to their element through the service worker (static/js/media_stream.js), so they play
before the file is complete.

A media element whose post has a magnet loads `./stream/<infoHash>`; its first request starts the race. It sits in
a `figure.torrent-media` whose data attributes (source, reason, decided-ms, shared, p2p-share) and caption tell the
state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyscript import document, window
from pyscript.ffi import create_proxy, to_js
from pyscript.js_modules import media_stream, torrent_client

from asknostr import nip92
from asknostr.browser.background import Background
from asknostr.browser.errors import error_text
from asknostr.browser.playback import Adopt, Playback
from asknostr.nip92 import Media

AHEAD = 3  # swarms joined ahead of play for video and audio in view; the oldest unplayed one makes way


@dataclass(frozen=True)
class Item:
    media: Media
    creator: str


class Viewer:
    def __init__(self, *, trackers: Callable[[], list[str]], memory_cap: Callable[[], int], adopt: Adopt) -> None:
        self.trackers = trackers
        self.memory_cap = memory_cap  # the largest HTTP download held in memory to be seeded afterwards
        self.adopt = adopt  # keep seeding (infoHash, blob, name, creator) under the quota: the swarm orchestrator
        self.items: dict[str, Item] = {}
        self._started: set[str] = set()
        self._background = Background("viewer")
        self._listening = False
        self._demand_proxy = create_proxy(self._demand)
        self._ahead: list[str] = []  # infoHashes joined ahead, not played yet, oldest first
        self._observer: Any = None
        self._seen_proxy = create_proxy(self._seen)

    # ---- rendering -----------------------------------------------------------------------------------------------
    def stream_url(self, media: Media, creator: str) -> str | None:
        """Where an element should load `media` from: the streaming route when it can come over WebTorrent (a magnet,
        and a service worker controlling the page); None: its plain URL."""
        if not (media.infohash and media.magnet) or not media_stream.available():
            return None
        if not self._listening:
            media_stream.listen(self._demand_proxy)
            self._listening = True
        self.items.setdefault(media.infohash, Item(media, creator))
        return f"./stream/{media.infohash}"

    def observe(self, figure: Any) -> None:
        """A streamed figure was rendered: once half of it is in view, its swarm is joined ahead of play (tracker,
        peers and metadata, no piece), so pressing play waits only for the first piece."""
        if self._observer is None:
            options = to_js({"threshold": 0.5}, dict_converter=window.Object.fromEntries)
            self._observer = window.IntersectionObserver.new(self._seen_proxy, options)
        self._observer.observe(figure)

    def _seen(self, entries: Any, _observer: Any) -> None:
        for entry in entries:
            if not entry.isIntersecting:
                continue
            self._observer.unobserve(entry.target)
            info_hash = str(entry.target.dataset.infohash)
            item = self.items.get(info_hash)
            if item is None or info_hash in self._started or info_hash in self._ahead:
                continue
            if nip92.media_kind(item.media) in ("video", "audio"):  # an image in view is loaded (played) at once
                self._background.spawn(self._join_ahead(info_hash, item))

    async def _join_ahead(self, info_hash: str, item: Item) -> None:
        if not await torrent_client.prepare(item.media.magnet, info_hash, to_js(self.trackers())):
            return  # joined already (seeded, kept, or joined by the swarm orchestrator)
        self._ahead.append(info_hash)
        while len(self._ahead) > AHEAD:
            await torrent_client.unprepare(self._ahead.pop(0))  # left unless it is wanted since

    def _figures(self, info_hash: str) -> list[Any]:
        return list(document.querySelectorAll(f'figure.torrent-media[data-infohash="{info_hash}"]'))

    def _show(self, info_hash: str, text: str, **data: str) -> None:
        for figure in self._figures(info_hash):
            caption = figure.querySelector("figcaption")
            if caption.textContent != text:
                caption.textContent = text
            for name, value in data.items():
                setattr(figure.dataset, name, value)

    # ---- the race ------------------------------------------------------------------------------------------------
    def _demand(self, key: Any) -> None:
        info_hash = str(key)
        item = self.items.get(info_hash)
        if item is None:
            media_stream.fail(info_hash, "no such media in the feed")
            return
        if info_hash not in self._started:
            self._started.add(info_hash)
            if info_hash in self._ahead:
                self._ahead.remove(info_hash)  # played: no longer one to make way
            self._background.spawn(self._guarded(info_hash, item))

    async def _guarded(self, info_hash: str, item: Item) -> None:
        try:
            play = Playback(
                info_hash, item.media, item.creator, trackers=self.trackers, memory_cap=self.memory_cap,
                adopt=self.adopt, show=self._show, figures=self._figures,
            )  # fmt: skip
            await play.run()
        except Exception as exc:  # a bug or a broken source: the element gets an error, not an endless wait
            media_stream.fail(info_hash, error_text(exc))
            self._started.discard(info_hash)  # playing again tries again
            self._show(info_hash, f"failed: {error_text(exc)}", source="failed")
            raise
