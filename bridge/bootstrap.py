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
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver

from asknostr import magnet as magnets
from asknostr.nip01 import is_hex64
from bridge import blob_policy
from bridge.blob_store import BlobStore, Received, TooLarge
from bridge.db import MISSING, SEEDING, BlobRow, Database, TorrentRow
from bridge.errors import BridgeError, parse_json
from bridge.signed_request import read_body, signer_of
from bridge.storage import Storage
from bridge.swarm import SWARM_KEY, SwarmKeeper
from bridge.torrent import TorrentError, TorrentInfo, bad_pieces, parse_torrent
from bridge.url_guard import ForbiddenUrl, GuardedResolver, check_url, split_target

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=300, sock_connect=10, sock_read=30)
MAX_REDIRECTS = 3
MAX_MAGNET_TRACKERS = 5


@dataclass
class Bootstrap:
    keeper: SwarmKeeper
    trackers: tuple[str, ...]
    fetch_allow_hosts: frozenset[str]
    # the DNS the guard asks (None: getaddrinfo in a thread); tests give a scripted one
    resolver: AbstractResolver | None = None

    @property
    def storage(self) -> Storage:
        return self.keeper.storage

    def clock(self) -> float:
        return self.keeper.clock()

    @property
    def store(self) -> BlobStore:
        return self.storage.store

    @property
    def max_bytes(self) -> int:
        return self.storage.max_upload_bytes

    def own_blob(self, url: str) -> str | None:
        """The sha256 when `url` names a blob on this Bridge's own media origin (held or not)."""
        parts, ours = urlsplit(url), urlsplit(self.storage.media_url)
        name = parts.path.lstrip("/").split(".")[0]
        return name if (parts.scheme, parts.netloc) == (ours.scheme, ours.netloc) and is_hex64(name) else None

    async def fetch(self, url: str, info: TorrentInfo) -> Received:
        """Download `url` into the store's temp area: public addresses only (every redirect checked), at most
        the torrent's length."""
        limit = min(info.length, self.max_bytes)
        # Names are checked by the connector's own resolver, once per connection and without a DNS cache: the
        # addresses checked are the addresses connected to (a second lookup could answer 127.0.0.1: DNS rebinding).
        guard = GuardedResolver(self.resolver, self.fetch_allow_hosts)
        connector = aiohttp.TCPConnector(resolver=guard, use_dns_cache=False)
        try:
            async with aiohttp.ClientSession(timeout=FETCH_TIMEOUT, connector=connector) as session:
                for _ in range(MAX_REDIRECTS + 1):
                    check_url(url, self.fetch_allow_hosts)  # scheme, port, IP literals (never resolved)
                    async with session.get(url, allow_redirects=False) as response:
                        if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                            url = urljoin(url, response.headers["Location"])
                            continue
                        if response.status != 200:
                            raise BridgeError(502, f"the media url answered {response.status}")

                        async def chunks(body: aiohttp.StreamReader = response.content) -> AsyncIterator[bytes]:
                            async for chunk in body.iter_chunked(64 * 1024):
                                yield chunk

                        return await self.store.receive(chunks(), limit)
        finally:
            await guard.close()  # the session leaves a resolver it was given open
        raise BridgeError(502, f"more than {MAX_REDIRECTS} redirects")

    async def ping(self, pubkey: str, payload: object, now: int) -> dict[str, object]:
        if not isinstance(payload, dict) or not all(
            isinstance(payload.get(k), str) for k in ("url", "magnet", "torrent")
        ):
            raise BridgeError(400, "body must be JSON {url, magnet, torrent} (torrent: base64 of the bencoded torrent)")
        try:
            magnet = magnets.parse(payload["magnet"])
            info = parse_torrent(base64.b64decode(payload["torrent"], validate=True))
        except (TorrentError, magnets.MagnetError, binascii.Error, ValueError) as exc:
            raise BridgeError(400, str(exc)) from None
        try:
            split_target(payload["url"])  # before any use of it: a url no one could fetch is the pinger's mistake
        except ForbiddenUrl as exc:
            raise BridgeError(403, f"will not fetch that url: {exc}") from None
        if magnet.info_hash != info.info_hash:
            raise BridgeError(400, "the magnet's infoHash is not the torrent's")
        if info.length > self.max_bytes:
            raise BridgeError(413, f"the file is larger than this Bridge keeps ({self.max_bytes} bytes)")
        known = await self._db().get_torrent(info.info_hash)
        if known is not None and known.state == SEEDING and self._seeded(known):
            # already seeded, here or by another instance of the fleet (a retry whose answer was lost, a second
            # follower's ping): no second download
            return {"info_hash": info.info_hash, "sha256": known.sha256, "state": SEEDING, "trackers": known.trackers}
        trackers = await self.announce_to(magnet.trackers)
        received: Received | None = None
        ours = self.own_blob(payload["url"])
        # the file on this disk (fetched from the fleet's object store if need be) and checked, before the lock
        path = await self.store.local_copy(ours) if ours is not None else None
        if path is None:
            received = await self._download(payload["url"], info)
        elif await asyncio.to_thread(bad_pieces, path, info):
            raise BridgeError(422, "the blob does not match the torrent: not seeded")
        sha256 = received.sha256 if received is not None else str(ours)
        try:
            if received is not None:
                await self.store.prepare(received)
            async with self.storage.blob_lock(sha256):  # from the blob's check to seeding: no DELETE nor handoff
                if received is None:
                    # its copy again: a cache trim may have dropped it since (then it comes back from the bucket)
                    path = await self.store.local_copy(sha256)
                    if path is None or await self._db().get_blob(sha256) is None:
                        raise BridgeError(409, "the blob was deleted meanwhile: upload it again")
                else:
                    media_type = blob_policy.type_of_name(info.name)
                    await self.store.commit(received)
                    await self._db().add_blob(BlobRow(sha256, info.length, media_type, now), pubkey, now)
                    path = self.store.path(sha256)  # a commit leaves a copy on this disk (a cache copy, with S3)
                await self._db().record_torrent(
                    info.info_hash, sha256, info.name, info.length, info.info_bytes, trackers, pubkey, now
                )
                try:
                    await self.keeper.seed(info, sha256, path, trackers)
                except RuntimeError as exc:  # libtorrent's refusal: recorded as not seeded, never shown as seeding
                    await self._db().set_torrent_state(info.info_hash, MISSING)
                    raise BridgeError(422, f"the Bridge cannot seed this torrent: {exc}") from None
        finally:
            if received is not None:
                await self.store.discard(received)  # a no-op once committed
        return {"info_hash": info.info_hash, "sha256": sha256, "state": SEEDING, "trackers": trackers}

    async def announce_to(self, magnet_trackers: tuple[str, ...]) -> list[str]:
        """The operator's trackers, then at most MAX_MAGNET_TRACKERS of the magnet's that are public addresses
        (libtorrent connects to each: a pinger must not point it into private networks)."""
        chosen: list[str] = []
        guard = GuardedResolver(self.resolver, self.fetch_allow_hosts)
        try:
            # a few tried, not all: each costs a lookup of a name the pinger chose (20,000 in one magnet were seen)
            for tracker in magnet_trackers[: 2 * MAX_MAGNET_TRACKERS]:
                if len(chosen) >= MAX_MAGNET_TRACKERS or tracker in self.trackers:
                    continue
                try:
                    await guard.check("http" + tracker[2:] if tracker.startswith("ws") else tracker)
                except (ForbiddenUrl, OSError):
                    continue
                chosen.append(tracker)
        finally:
            await guard.close()
        return list(dict.fromkeys([*self.trackers, *chosen]))

    async def _download(self, url: str, info: TorrentInfo) -> Received:
        """The url's content in the store's temp area, every piece checked against the torrent."""
        try:
            received = await self.fetch(url, info)
        except ForbiddenUrl as exc:
            raise BridgeError(403, f"will not fetch that url: {exc}") from None
        except TooLarge:
            raise BridgeError(422, "the url's content is longer than the torrent says") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BridgeError(502, f"could not download the url: {exc or type(exc).__name__}") from None
        if await asyncio.to_thread(bad_pieces, received.path, info):  # hashing a large file: off the loop
            await self.store.discard(received)
            raise BridgeError(422, "the url's content does not match the torrent: not seeded")
        return received

    def _seeded(self, row: TorrentRow) -> bool:
        """Whether this instance seeds the torrent, or another instance's lease on it is running."""
        if self.keeper.seeder.seeding(row.info_hash):
            return True
        return row.owner not in (None, self.keeper.member.name) and row.lease_until >= self.clock()

    def _db(self) -> Database:
        return self.storage.db


BOOTSTRAP_KEY = web.AppKey("bootstrap", Bootstrap)


async def ping_handler(request: web.Request) -> web.Response:
    bootstrap = request.app[BOOTSTRAP_KEY]
    try:
        body = await read_body(request, MAX_BODY, "ping")
        now = int(bootstrap.clock())
        pubkey = signer_of(request, body, now, bootstrap.storage.app_url)
        result = await bootstrap.ping(pubkey, parse_json(body, "the ping's body"), now)
    except BridgeError as exc:
        log.warning("ping refused (%d): %s", exc.status, exc.reason)
        raise
    return web.json_response(result)


def add_bootstrap_routes(app: web.Application, *, trackers: tuple[str, ...], fetch_allow_hosts: frozenset[str]) -> None:
    """`POST /api/ping`. Needs the app's SwarmKeeper (SWARM_KEY) first."""
    app[BOOTSTRAP_KEY] = Bootstrap(app[SWARM_KEY], trackers, fetch_allow_hosts)
    app.router.add_post("/api/ping", ping_handler)
