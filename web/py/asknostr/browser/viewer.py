"""The viewer: a post's media plays P2P first and from its HTTP `url` when the swarm cannot serve it (the race is
asknostr.media_race; this adapter feeds it what WebTorrent and the streaming route see). Video and audio stream to
their element through the service worker (static/js/media_stream.js), so they play before the file is complete,
from one source (static/js/http_download.js): P2P's pieces, and once HTTP takes over, the ranges P2P has not got
(asknostr.http_ranges), so P2P's bytes are kept. Whatever served it, the file is seeded afterwards and kept under
the quota: HTTP bytes become the torrent (no second download).

A media element whose post has a magnet loads `./stream/<infoHash>`; its first request starts the race. It sits in
a `figure.torrent-media` whose data attributes (source, reason, decided-ms, shared, p2p-share) and caption tell the
state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pyscript import document, window
from pyscript.ffi import create_proxy, to_js
from pyscript.js_modules import http_download, media_stream, torrent_client

from asknostr import http_ranges, magnet, nip92, piece_length
from asknostr.browser import torrents
from asknostr.browser.background import Background
from asknostr.browser.errors import error_text
from asknostr.media_race import HTTP, P2P, TRYING, Race, progress_text
from asknostr.nip92 import Media
from asknostr.peer_kinds import PeerKinds

POLL = 0.05  # seconds between looks at the swarm while the race is on (a look is one call into JS)
AHEAD = 3  # swarms joined ahead of play for video and audio in view; the oldest unplayed one makes way
REFRESH = 1.0  # seconds between caption updates afterwards
WATCH = 0.25  # seconds between looks at P2P while it plays (the streaming route counts playback's waits meanwhile)

Adopt = Callable[[str, Any, str, str], Awaitable[bool]]


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

    def _play_directly(self, info_hash: str, url: str) -> None:
        """Last resort: the element loads the URL itself (no CORS needed; nothing kept to seed)."""
        for figure in self._figures(info_hash):
            element = figure.querySelector("img, video, audio")
            if str(element.getAttribute("src")) != url:
                element.setAttribute("src", url)

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
            await self._play(info_hash, item)
        except Exception as exc:  # a bug or a broken source: the element gets an error, not an endless wait
            media_stream.fail(info_hash, error_text(exc))
            self._started.discard(info_hash)  # playing again tries again
            self._show(info_hash, f"failed: {error_text(exc)}", source="failed")
            raise

    async def _play(self, info_hash: str, item: Item) -> None:
        media = item.media
        started = time.monotonic()
        race = Race(started=started, has_url=bool(media.url))
        try:
            watch = await torrent_client.watch(media.magnet, info_hash, to_js(self.trackers()))
        except Exception as exc:  # a magnet WebTorrent refuses
            window.console.warn(f"cannot join {info_hash}: {error_text(exc)}")
            watch = None
            race = race.tick(started + 3600)  # nothing to wait for
        # one source for the element from the start, whatever happens next: P2P's pieces as they come (the element
        # learns the size and type from the metadata, and waits for bytes only), HTTP's ranges once the race says so
        p2p = await torrent_client.fileSource(info_hash, media.mime) if watch is not None else None
        source = http_download.download(media.url, media.mime, self.memory_cap(), p2p)
        media_stream.provide(info_hash, source)
        first = watch.state().to_py() if watch is not None else None
        if first is not None and first["done"] and int(first["length"]):
            race = race.on_device(int(first["length"]))
        while race.state == TRYING and watch is not None:
            state = watch.state().to_py()
            race = self._observe(race, info_hash, state, time.monotonic())
            if race.state == TRYING:
                self._show(info_hash, progress_text(race, speed=0, fraction=0, peers=_kinds(state)))
                await asyncio.sleep(POLL)
        self._decided(info_hash, race, started)
        if race.state == P2P:
            race = await self._over_p2p(info_hash, item, watch, race)
            if race.state != HTTP:
                return
            self._decided(info_hash, race, started)
        await self._over_http(info_hash, item, watch, race, source)

    def _decided(self, info_hash: str, race: Race, started: float) -> None:
        decided = {
            "source": race.source,
            "reason": race.reason,
            "decidedMs": str(round((time.monotonic() - started) * 1000)),
        }
        self._show(info_hash, progress_text(race, speed=0, fraction=0, peers=PeerKinds()), **decided)

    def _observe(self, race: Race, info_hash: str, state: Any, now: float) -> Race:
        """The race told what WebTorrent and the streaming route see now."""
        race = race.peers_changed(int(state["peers"]), now).data(int(state["downloaded"]), now)
        race = race.playback(float(media_stream.waited(info_hash)), now)
        race = race.tracker_answers(state["seeders"], int(state["trackers"]), now).tick(now)
        length = int(state["length"])
        return race.needs(length, self._duration(info_hash), now) if length else race

    def _duration(self, info_hash: str) -> float:
        """The playing element's duration in seconds; 0 until it knows (NaN), and for images."""
        for figure in self._figures(info_hash):
            element = figure.querySelector("video, audio")
            duration = float(element.duration) if element is not None else 0.0
            if duration > 0:  # NaN is not
                return duration
        return 0.0

    async def _over_p2p(self, info_hash: str, item: Item, watch: Any, race: Race) -> Race:
        """Play over P2P until the file is here and seeded, or until the race gives HTTP the rest (returned)."""
        # no size limit: the element is playing this torrent; whether it is kept afterwards is the quota's call
        fetch = asyncio.ensure_future(torrents.fetch(item.media.magnet, self.trackers()))
        shown = 0.0
        while not fetch.done():
            state = watch.state().to_py()
            now = time.monotonic()
            race = self._observe(race, info_hash, state, now)
            if race.state == HTTP:
                fetch.add_done_callback(_quiet)  # the torrent stays joined: its pieces still count
                return race
            if now - shown >= REFRESH:
                text = progress_text(race, speed=float(state["downloadSpeed"]), fraction=float(state["progress"]),
                                     peers=_kinds(state))  # fmt: skip
                self._show(info_hash, text)
                shown = now
            await asyncio.wait([fetch], timeout=WATCH)
        try:
            got = fetch.result()
        except Exception as exc:
            self._show(info_hash, f"P2P · failed: {error_text(exc)}", shared="no")
            return race
        shared = await self.adopt(info_hash, got.blob, str(got.name), item.creator)
        self._show(info_hash, progress_text(race, speed=0, fraction=1, peers=_kinds(watch.state().to_py()), done=True),
                   shared="yes" if shared else "no")  # fmt: skip
        return race

    async def _over_http(self, info_hash: str, item: Item, watch: Any, race: Race, source: Any) -> None:
        """`race`: decided for HTTP, with the reason the caption gives. HTTP fetches what P2P has not got."""
        media = item.media
        fill = asyncio.ensure_future(self._fill(source))
        while not fill.done():
            elapsed = max(1e-3, (window.performance.now() - source.started) / 1000)
            size = int(source.size)
            held, http = _held(source, size) if size else ([], [])
            share = (http_ranges.held_bytes(size, held) - http_ranges.held_bytes(size, http)) / size if size else 0
            peers = _kinds(watch.state().to_py()) if watch is not None else PeerKinds()
            fraction = http_ranges.held_bytes(size, held) / size if size else 0
            text = progress_text(race, speed=int(source.received) / elapsed, fraction=fraction, peers=peers,
                                 p2p_share=share)  # fmt: skip
            self._show(info_hash, text)
            await asyncio.wait([fill], timeout=REFRESH)
        try:
            data, share = fill.result()
        except Exception as exc:
            window.console.warn(f"HTTP download of {media.url} failed: {error_text(exc)}; the element loads it itself")
            self._play_directly(info_hash, media.url)
            self._show(info_hash, f"HTTP · direct ({error_text(exc)})", shared="no")
            return
        shared = await self._promote(info_hash, item, data)
        kinds = _kinds(watch.state().to_py()) if watch is not None and share > 0 else PeerKinds()  # who sent P2P's
        self._show(info_hash, progress_text(race, speed=0, fraction=1, peers=kinds, done=True, p2p_share=share),
                   shared="yes" if shared else "no", p2pShare=f"{share:.3f}")  # fmt: skip

    async def _fill(self, source: Any) -> tuple[Any, float]:
        """Ask the HTTP server for every range P2P has not got, from where playback reads: the whole file (a Blob)
        and the part of it P2P gave."""
        if not int(source.size):
            await source.fetch(0, http_ranges.CHUNK)  # no metadata from P2P: the server's answer says the size
        while True:
            size = int(source.size)
            held, http = _held(source, size)
            planned = http_ranges.next_fetch(size, held, min(int(source.position), size))
            if planned is None:
                break
            fetch = asyncio.ensure_future(source.fetch(*planned))
            while not fetch.done():
                if (await asyncio.wait([fetch], timeout=WATCH))[0]:
                    break
                waiting = int(source.waitingAt)
                under_way = (planned[0], int(source.fetchingEnd))  # a server without ranges sends the whole file
                if not http_ranges.still_wanted(under_way, int(source.fetchedTo), waiting if waiting >= 0 else None):
                    source.stopFetch()  # playback seeked elsewhere: plan again from there
            fetch.result()
        share = 1 - http_ranges.held_bytes(size, http) / size if size else 0.0
        return await source.blob(), share

    async def _promote(self, info_hash: str, item: Item, blob: Any) -> bool:
        """Seed what came over HTTP: the torrent joined by magnet (still without metadata) makes way for one seeded
        from the bytes, which must come out as the same infoHash (same name, same content)."""
        name = magnet.display_name(item.media.magnet) or info_hash
        await torrent_client.remove(info_hash)
        made = []
        kept = {k.info_hash for k in await torrents.kept()}  # a candidate may be a file kept here: never forgotten
        for piece in piece_length.candidates(int(blob.size)):  # the app's piece length, then WebTorrent's default
            try:
                seeded = await torrents.seed(blob, name, self.trackers(), keep=False, piece=piece)
            except Exception as exc:
                window.console.warn(f"could not seed {info_hash} from HTTP: {error_text(exc)}")
                return False
            if seeded.info_hash == info_hash:
                break
            made.append(seeded.info_hash)
            if seeded.info_hash not in kept:
                await torrents.forget(seeded.info_hash)
        else:
            window.console.warn(f"the HTTP copy makes torrents {', '.join(made)}, not {info_hash}: not shared")
            return False
        media_stream.provide(info_hash, await torrent_client.fileSource(info_hash, item.media.mime))
        return await self.adopt(info_hash, blob, name, item.creator)


def _held(source: Any, size: int) -> tuple[list[http_ranges.Range], list[http_ranges.Range]]:
    """What `source` (http_download.js) holds of a file of `size` bytes: over either way, and over HTTP alone."""
    http = [(int(start), int(end)) for start, end in source.held()]
    have = source.pieces()
    return [*http, *http_ranges.pieces(str(have.bits), int(have.pieceLength), size)], http


def _kinds(state: dict[str, Any]) -> PeerKinds:
    """The peers of a torrent_client `watch` state (converted to Python), by kind: the Bridge's and people's."""
    return PeerKinds.of(state.get("peerIds") or [], state.get("receivedFrom") or {})


def _quiet(future: asyncio.Future[Any]) -> None:
    """A P2P download left to run on its own: how it ends is seen elsewhere (the torrent's state)."""
    if not future.cancelled():
        future.exception()
