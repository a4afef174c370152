"""The bootstrap ping: a browser that just published media asks the Bridge to seed it until the swarm is healthy.

`POST /api/ping`, NIP-98 signed, JSON body `{url, magnet, torrent}` (`torrent`: base64 of the bencoded .torrent or
info dict the browser made). The Bridge checks that the torrent is the magnet's, takes the file from its own
Blossom store when the url names a blob it holds, else downloads it (public addresses only, size and time caps),
checks every piece against the torrent, and only then seeds it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import mimetypes
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp import web

from asknostr.nip01 import is_hex64
from bridge import nip98
from bridge.blob_store import BlobStore, Received, TooLarge
from bridge.blossom import FALLBACK_TYPE, Blossom
from bridge.db import SEEDING, BlobRow, Database
from bridge.signed_request import BodyTooLarge, read_body, signer_of
from bridge.swarm import SWARM_KEY, SwarmKeeper
from bridge.torrent import TorrentError, TorrentInfo, bad_pieces, parse_magnet, parse_torrent
from bridge.url_guard import ForbiddenUrl, check_url

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=300, sock_connect=10, sock_read=30)
MAX_REDIRECTS = 3
MAX_MAGNET_TRACKERS = 5


class PingError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass
class Bootstrap:
    keeper: SwarmKeeper
    trackers: tuple[str, ...]
    fetch_allow_hosts: frozenset[str]

    @property
    def blossom(self) -> Blossom:
        return self.keeper.blossom

    def clock(self) -> float:
        return self.keeper.clock()

    @property
    def store(self) -> BlobStore:
        return self.blossom.store

    @property
    def public_url(self) -> str:
        return self.blossom.public_url

    @property
    def max_bytes(self) -> int:
        return self.blossom.max_upload_bytes

    def local_blob(self, url: str) -> str | None:
        """The sha256 when `url` names a blob of this Bridge that it holds."""
        parts, ours = urlsplit(url), urlsplit(self.public_url)
        name = parts.path.lstrip("/").split(".")[0]
        if (parts.scheme, parts.netloc) == (ours.scheme, ours.netloc) and is_hex64(name) and self.store.exists(name):
            return name
        return None

    async def fetch(self, url: str, info: TorrentInfo) -> Received:
        """Download `url` into the store's temp area: public addresses only (every redirect checked), at most
        the torrent's length."""
        limit = min(info.length, self.max_bytes)
        async with aiohttp.ClientSession(timeout=FETCH_TIMEOUT) as session:
            for _ in range(MAX_REDIRECTS + 1):
                await check_url(url, self.fetch_allow_hosts)
                async with session.get(url, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    if response.status != 200:
                        raise PingError(502, f"the media url answered {response.status}")

                    async def chunks(body: aiohttp.StreamReader = response.content) -> AsyncIterator[bytes]:
                        async for chunk in body.iter_chunked(64 * 1024):
                            yield chunk

                    return await self.store.receive(chunks(), limit)
        raise PingError(502, f"more than {MAX_REDIRECTS} redirects")

    async def ping(self, pubkey: str, payload: object, now: int) -> dict[str, object]:
        if not isinstance(payload, dict) or not all(
            isinstance(payload.get(k), str) for k in ("url", "magnet", "torrent")
        ):
            raise PingError(400, "body must be JSON {url, magnet, torrent} (torrent: base64 of the bencoded torrent)")
        try:
            magnet = parse_magnet(payload["magnet"])
            info = parse_torrent(base64.b64decode(payload["torrent"], validate=True))
        except (TorrentError, binascii.Error, ValueError) as exc:
            raise PingError(400, str(exc)) from None
        if magnet.info_hash != info.info_hash:
            raise PingError(400, "the magnet's infoHash is not the torrent's")
        if info.length > self.max_bytes:
            raise PingError(413, f"the file is larger than this Bridge keeps ({self.max_bytes} bytes)")
        known = await self._db().get_torrent(info.info_hash)
        if known is not None and known.state == SEEDING and self.keeper.seeder.seeding(info.info_hash):
            # already seeded (a retry whose answer was lost, a second follower's ping): no second download
            return {"info_hash": info.info_hash, "sha256": known.sha256, "state": SEEDING, "trackers": known.trackers}
        trackers = await self.announce_to(magnet.trackers)
        received: Received | None = None
        if self.local_blob(payload["url"]) is None:
            received = await self._download(payload["url"], info)
        async with self.blossom.mutex():  # from the blob's check to seeding: no DELETE nor handoff in between
            if received is None:
                sha256 = self.local_blob(payload["url"])
                if sha256 is None:
                    raise PingError(409, "the blob was deleted meanwhile: upload it again")
                if await asyncio.to_thread(bad_pieces, self.store.path(sha256), info):
                    raise PingError(422, "the blob does not match the torrent: not seeded")
            else:
                sha256 = received.sha256
                media_type = mimetypes.guess_type(info.name, strict=False)[0] or FALLBACK_TYPE
                await self.store.commit(received)
                await self._db().add_blob(BlobRow(sha256, info.length, media_type, now), pubkey, now)
            path: Path = self.store.path(sha256)
            await self._db().record_torrent(
                info.info_hash, sha256, info.name, info.length, info.info_bytes, trackers, pubkey, now
            )
            await self.keeper.seed(info, path, trackers)
        return {"info_hash": info.info_hash, "sha256": sha256, "state": SEEDING, "trackers": trackers}

    async def announce_to(self, magnet_trackers: tuple[str, ...]) -> list[str]:
        """The operator's trackers, then at most MAX_MAGNET_TRACKERS of the magnet's that are public addresses
        (libtorrent connects to each: a pinger must not point it into private networks)."""
        chosen: list[str] = []
        for tracker in magnet_trackers:
            if len(chosen) >= MAX_MAGNET_TRACKERS or tracker in self.trackers:
                continue
            try:
                await check_url("http" + tracker[2:] if tracker.startswith("ws") else tracker, self.fetch_allow_hosts)
            except (ForbiddenUrl, OSError):
                continue
            chosen.append(tracker)
        return list(dict.fromkeys([*self.trackers, *chosen]))

    async def _download(self, url: str, info: TorrentInfo) -> Received:
        """The url's content in the store's temp area, every piece checked against the torrent."""
        try:
            received = await self.fetch(url, info)
        except ForbiddenUrl as exc:
            raise PingError(403, f"will not fetch that url: {exc}") from None
        except TooLarge:
            raise PingError(422, "the url's content is longer than the torrent says") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PingError(502, f"could not download the url: {exc or type(exc).__name__}") from None
        if await asyncio.to_thread(bad_pieces, received.path, info):  # hashing a large file: off the loop
            await self.store.discard(received)
            raise PingError(422, "the url's content does not match the torrent: not seeded")
        return received

    def _db(self) -> Database:
        return self.blossom.database()


BOOTSTRAP_KEY = web.AppKey("bootstrap", Bootstrap)


async def ping_handler(request: web.Request) -> web.Response:
    bootstrap = request.app[BOOTSTRAP_KEY]
    try:
        try:
            body = await read_body(request, MAX_BODY)
        except BodyTooLarge:
            raise PingError(413, "ping body too large") from None
        now = int(bootstrap.clock())
        try:
            pubkey = signer_of(request, body, now, bootstrap.public_url)
        except nip98.HttpAuthError as exc:
            raise PingError(401, exc.reason) from None
        try:
            payload = json.loads(body)
        except ValueError:
            raise PingError(400, "body is not JSON") from None
        result = await bootstrap.ping(pubkey, payload, now)
    except PingError as exc:
        log.warning("ping refused (%d): %s", exc.status, exc.reason)
        return web.json_response({"error": exc.reason}, status=exc.status, headers={"X-Reason": exc.reason})
    return web.json_response(result)


def add_bootstrap_routes(app: web.Application, *, trackers: tuple[str, ...], fetch_allow_hosts: frozenset[str]) -> None:
    """`POST /api/ping`. Needs the app's SwarmKeeper (SWARM_KEY) first."""
    app[BOOTSTRAP_KEY] = Bootstrap(app[SWARM_KEY], trackers, fetch_allow_hosts)
    app.router.add_post("/api/ping", ping_handler)
