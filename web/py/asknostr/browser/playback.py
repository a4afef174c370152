"""Playing one attachment: the race of asknostr.media_race run on WebTorrent (static/js/torrent_client.js) and
HTTP (static/js/http_download.js), feeding one source to the element through the service worker. P2P first; HTTP
fetches only the ranges P2P has not got (asknostr.http_ranges); whatever served it, the file is seeded afterwards
(HTTP bytes become the same torrent, no second download). The viewer (viewer.py) starts one per played file."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pyscript import window
from pyscript.ffi import to_js
from pyscript.js_modules import http_download, media_stream, torrent_client

from asknostr import http_ranges, magnet, piece_length
from asknostr.browser import torrents
from asknostr.browser.errors import error_text
from asknostr.media_race import HTTP, P2P, TRYING, Race, progress_text
from asknostr.nip92 import Media
from asknostr.peer_kinds import PeerKinds

POLL = 0.05  # seconds between looks at the swarm while the race is on (a look is one call into JS)
REFRESH = 1.0  # seconds between caption updates afterwards
WATCH = 0.25  # seconds between looks at P2P while it plays (the streaming route counts playback's waits meanwhile)

Adopt = Callable[[str, Any, str, str], Awaitable[bool]]
Show = Callable[..., None]
"""show(infoHash, caption, **data attributes): every figure of the file says it."""


class Playback:
    def __init__(
        self,
        info_hash: str,
        media: Media,
        creator: str,
        *,
        trackers: Callable[[], list[str]],
        memory_cap: Callable[[], int],
        adopt: Adopt,
        show: Show,
        figures: Callable[[str], list[Any]],
    ) -> None:
        self.info_hash, self.media, self.creator = info_hash, media, creator
        self.trackers, self.memory_cap, self.adopt = trackers, memory_cap, adopt
        self.show, self.figures = show, figures

    def _show(self, text: str, **data: str) -> None:
        self.show(self.info_hash, text, **data)

    async def run(self) -> None:
        media = self.media
        started = time.monotonic()
        race = Race(started=started, has_url=bool(media.url))
        try:
            watch = await torrent_client.watch(media.magnet, self.info_hash, to_js(self.trackers()))
        except Exception as exc:  # a magnet WebTorrent refuses
            window.console.warn(f"cannot join {self.info_hash}: {error_text(exc)}")
            watch = None
            race = race.tick(started + 3600)  # nothing to wait for
        # one source for the element from the start, whatever happens next: P2P's pieces as they come (the element
        # learns the size and type from the metadata, and waits for bytes only), HTTP's ranges once the race says so
        p2p = await torrent_client.fileSource(self.info_hash, media.mime) if watch is not None else None
        # (HTTP's bytes go to disk, into the torrent's file there, where the browser can: memory_cap is for the rest)
        source = http_download.download(media.url, media.mime, self.memory_cap(), p2p, self.info_hash)
        media_stream.provide(self.info_hash, source)
        first = watch.state().to_py() if watch is not None else None
        if first is not None and first["done"] and int(first["length"]):
            race = race.on_device(int(first["length"]))
        while race.state == TRYING and watch is not None:
            state = watch.state().to_py()
            race = self._observe(race, state, time.monotonic())
            if race.state == TRYING:
                self._show(progress_text(race, speed=0, fraction=0, peers=_kinds(state)))
                await asyncio.sleep(POLL)
        self._decided(race, started)
        if race.state == P2P:
            race = await self._over_p2p(watch, race)
            if race.state != HTTP:
                return
            self._decided(race, started)
        await self._over_http(watch, race, source)

    def _decided(self, race: Race, started: float) -> None:
        decided = {
            "source": race.source,
            "reason": race.reason,
            "decidedMs": str(round((time.monotonic() - started) * 1000)),
        }
        self._show(progress_text(race, speed=0, fraction=0, peers=PeerKinds()), **decided)

    def _observe(self, race: Race, state: Any, now: float) -> Race:
        """The race told what WebTorrent and the streaming route see now."""
        race = race.peers_changed(int(state["peers"]), now).data(int(state["downloaded"]), now)
        race = race.playback(float(media_stream.waited(self.info_hash)), now)
        race = race.tracker_answers(state["seeders"], int(state["trackers"]), now).tick(now)
        length = int(state["length"])
        return race.needs(length, self._duration(), now) if length else race

    def _duration(self) -> float:
        """The playing element's duration in seconds; 0 until it knows (NaN), and for images."""
        for figure in self.figures(self.info_hash):
            element = figure.querySelector("video, audio")
            duration = float(element.duration) if element is not None else 0.0
            if duration > 0:  # NaN is not
                return duration
        return 0.0

    async def _over_p2p(self, watch: Any, race: Race) -> Race:
        """Play over P2P until the file is here and seeded, or until the race gives HTTP the rest (returned)."""
        # no size limit: the element is playing this torrent; whether it is kept afterwards is the quota's call
        fetch = asyncio.ensure_future(torrents.fetch(self.media.magnet, self.trackers()))
        shown = 0.0
        while not fetch.done():
            state = watch.state().to_py()
            now = time.monotonic()
            race = self._observe(race, state, now)
            if race.state == HTTP:
                fetch.add_done_callback(_quiet)  # the torrent stays joined: its pieces still count
                return race
            if now - shown >= REFRESH:
                text = progress_text(race, speed=float(state["downloadSpeed"]), fraction=float(state["progress"]),
                                     peers=_kinds(state))  # fmt: skip
                self._show(text)
                shown = now
            await asyncio.wait([fetch], timeout=WATCH)
        try:
            got = fetch.result()
        except Exception as exc:
            self._show(f"P2P · failed: {error_text(exc)}", shared="no")
            return race
        shared = await self.adopt(self.info_hash, got.blob, str(got.name), self.creator)
        self._show(progress_text(race, speed=0, fraction=1, peers=_kinds(watch.state().to_py()), done=True),
                   shared="yes" if shared else "no")  # fmt: skip
        return race

    async def _over_http(self, watch: Any, race: Race, source: Any) -> None:
        """`race`: decided for HTTP, with the reason the caption gives. HTTP fetches what P2P has not got."""
        media = self.media
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
            self._show(text)
            await asyncio.wait([fill], timeout=REFRESH)
        try:
            data, share = fill.result()
        except Exception as exc:
            window.console.warn(f"HTTP download of {media.url} failed: {error_text(exc)}; the element loads it itself")
            self._play_directly(media.url)
            self._show(f"HTTP · direct ({error_text(exc)})", shared="no")
            return
        shared = await self._promote(data)
        kinds = _kinds(watch.state().to_py()) if watch is not None and share > 0 else PeerKinds()  # who sent P2P's
        self._show(progress_text(race, speed=0, fraction=1, peers=kinds, done=True, p2p_share=share),
                   shared="yes" if shared else "no", p2pShare=f"{share:.3f}")  # fmt: skip

    async def _fill(self, source: Any) -> tuple[Any, float]:
        """Ask the HTTP server for every range P2P has not got, from where playback reads, each byte once: the whole
        file (a Blob) and the part of it P2P gave."""
        if not int(source.size):
            await source.fetch(0, http_ranges.CHUNK)  # no metadata from P2P: the server's answer says the size
        fetches: dict[int, asyncio.Future[Any]] = {}  # the answers under way, by the byte each starts at
        try:
            while True:
                size = int(source.size)
                held, http = _held(source, size)
                answers = [(int(start), int(at), int(end)) for start, at, end in source.underWay()]
                for start, at, end in answers:
                    if http_ranges.should_stop((at, end), held):
                        source.stopFetch(start)  # P2P brought the rest meanwhile
                waiting = int(source.waitingAt)
                have = source.pieces()
                planned = http_ranges.plan(
                    size,
                    held,
                    [(at, end) for _, at, end in answers],
                    min(int(source.position), size),
                    waiting if 0 <= waiting < size else None,
                    ranged=bool(source.ranged),
                    piece_length=int(have.pieceLength) if str(have.bits) else 0,
                    p2p_busy=http_ranges.pieces(str(have.busy), int(have.pieceLength), size),
                )
                if planned is not None:
                    source.leave(*planned)  # P2P does not fetch what HTTP fetches
                    fetches[planned[0]] = asyncio.ensure_future(source.fetch(*planned))
                elif not fetches:
                    break
                await asyncio.wait(list(fetches.values()), timeout=WATCH, return_when=asyncio.FIRST_COMPLETED)
                for start, fetch in list(fetches.items()):
                    if fetch.done():
                        del fetches[start]
                        fetch.result()
        finally:
            for start in fetches:  # one failed: the others are not waited for
                source.stopFetch(start)
        share = 1 - http_ranges.held_bytes(size, http) / size if size else 0.0
        return await source.blob(), share

    async def _promote(self, blob: Any) -> bool:
        """Seed what came over HTTP: the torrent joined by magnet (still without metadata) makes way for one seeded
        from the bytes, which must come out as the same infoHash (same name, same content)."""
        name = magnet.display_name(self.media.magnet) or self.info_hash
        await torrent_client.remove(self.info_hash)
        made = []
        kept = {k.info_hash for k in await torrents.kept()}  # a candidate may be a file kept here: never forgotten
        for piece in piece_length.candidates(int(blob.size)):  # the app's piece length, then WebTorrent's default
            try:
                seeded = await torrents.seed(blob, name, self.trackers(), keep=False, piece=piece)
            except Exception as exc:
                window.console.warn(f"could not seed {self.info_hash} from HTTP: {error_text(exc)}")
                return False
            if seeded.info_hash == self.info_hash:
                break
            made.append(seeded.info_hash)
            if seeded.info_hash not in kept:
                await torrents.forget(seeded.info_hash)
        else:
            window.console.warn(f"the HTTP copy makes torrents {', '.join(made)}, not {self.info_hash}: not shared")
            return False
        media_stream.provide(self.info_hash, await torrent_client.fileSource(self.info_hash, self.media.mime))
        return await self.adopt(self.info_hash, blob, name, self.creator)

    def _play_directly(self, url: str) -> None:
        """Last resort: the element loads the URL itself (no CORS needed; nothing kept to seed)."""
        for figure in self.figures(self.info_hash):
            element = figure.querySelector("img, video, audio")
            if str(element.getAttribute("src")) != url:
                element.setAttribute("src", url)


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
