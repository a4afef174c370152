"""The browser's WebTorrent client (through static/js/torrent_client.js): seed a post's files, and seed them again
after a reload from the copies kept in IndexedDB (the File objects themselves, stored by idb-keyval, each beside
the .torrent file it was seeded with). A file downloaded here is on disk already (static/js/disk_store.js, the
origin's private file system): IndexedDB keeps a reference to it, {disk: name}, not a second copy."""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyscript import window
from pyscript.ffi import is_none, to_js
from pyscript.js_modules import idb_keyval, torrent_client

from asknostr import piece_length
from asknostr.browser import storage
from asknostr.browser.errors import error_text
from asknostr.quota_pruner import Kept

_index_lock = asyncio.Lock()
_kept_here: dict[tuple[str, int, int], str] = {}
"""This page's kept files by (name, size, lastModified): the infoHash an upload of the same File names as its source
after a reload (asknostr.browser.uploads)."""
INDEX_KEY = "seeds"
"""JSON {infoHash: {name, type, size}} of the files this browser seeds."""


def _file_key(info_hash: str) -> str:
    return f"seed-file:{info_hash}"


def _torrent_key(info_hash: str) -> str:
    return f"seed-torrent:{info_hash}"


@dataclass(frozen=True)
class Seeded:
    info_hash: str
    magnet: str
    torrent: str  # base64 of the .torrent file (what the Bridge ping carries)


def configure(ice_servers: Sequence[object]) -> None:
    torrent_client.configure(to_js(list(ice_servers), dict_converter=window.Object.fromEntries))


async def seed(
    file: Any, name: str, trackers: list[str], *, creator: str = "", keep: bool = True, piece: int | None = None
) -> Seeded:
    """Seed `file` (a File/Blob) under `name` at once, in pieces of `piece` bytes (the app's length for its size
    when not given); with `keep`, remember it (pinned: the user's own upload) so a reload seeds it again."""
    piece = piece or piece_length.for_size(int(file.size))
    result = await torrent_client.seed(file, name, to_js(trackers), piece)
    info_hash = str(result.infoHash)
    torrent = base64.b64encode(bytes(result.torrentFile.to_py())).decode()
    if keep:
        await keep_file(info_hash, file, name, creator, pinned=True)
    return Seeded(info_hash, str(result.magnetURI), torrent)


async def keep_file(info_hash: str, file: Any, name: str, creator: str, *, pinned: bool) -> None:
    """Keep a file this page seeds (its torrent running here), with its .torrent, for the next start."""
    now = time.time()
    stored = str(torrent_client.storedName(file))
    reference = to_js({"disk": stored}, dict_converter=window.Object.fromEntries) if stored else None
    await idb_keyval.set(_file_key(info_hash), reference or file)
    _kept_here[_file_id(file)] = info_hash
    torrent_file = await torrent_client.torrentFile(info_hash)
    if torrent_file is not None:
        await idb_keyval.set(_torrent_key(info_hash), torrent_file)
    record = {"name": name, "type": str(file.type), "size": int(file.size), "creator": creator, "added": now}
    record.update(last_access=now, pinned=pinned)
    async with _index_lock:  # two files at once: read-modify-write one at a time
        index = await storage.get_json(INDEX_KEY) or {}
        index[info_hash] = record
        await storage.set_json(INDEX_KEY, index)


def _file_id(file: Any) -> tuple[str, int, int]:
    return str(getattr(file, "name", "") or ""), int(file.size), int(getattr(file, "lastModified", 0) or 0)


def kept_info_hash(file: Any) -> str:
    """The infoHash under which this page kept `file` (a File it seeds, kept for the next start), else ""."""
    return _kept_here.get(_file_id(file), "")


async def kept_file(info_hash: str, type_: str = "") -> Any:
    """The File kept for seeding under `info_hash` (a disk-backed Blob), or None."""
    file = await idb_keyval.get(_file_key(info_hash))
    if file is None or is_none(file):
        return None
    disk = _disk_name(file)
    if disk:  # downloaded here: on disk, where the download wrote it
        file = await torrent_client.storedFile(disk, type_)
        return None if file is None or is_none(file) else file
    return file


def _disk_name(value: Any) -> str:
    """The name on disk a kept value refers to ({disk: name}), or "" (a File kept in IndexedDB itself, or none)."""
    name = getattr(value, "disk", None)  # (None and JS null have no `disk`)
    return str(name) if isinstance(name, str) else ""


async def forget(info_hash: str) -> None:
    """Stop seeding and delete the kept copy."""
    await torrent_client.remove(info_hash)
    async with _index_lock:
        index = await storage.get_json(INDEX_KEY) or {}
        index.pop(info_hash, None)
        await storage.set_json(INDEX_KEY, index)
    disk = _disk_name(await idb_keyval.get(_file_key(info_hash)))
    if disk:
        await torrent_client.removeStored(disk)
    await getattr(idb_keyval, "del")(_file_key(info_hash))  # idb-keyval calls it `del`
    await getattr(idb_keyval, "del")(_torrent_key(info_hash))


async def kept() -> list[Kept]:
    """What this browser keeps, for the quota pruner."""
    index = await storage.get_json(INDEX_KEY)
    items = []
    for info_hash, r in (index or {}).items() if isinstance(index, dict) else ():
        if isinstance(r, dict):
            added = float(r.get("added", 0))
            items.append(
                Kept(info_hash, int(r.get("size", 0)), added, float(r.get("last_access", added)),
                     str(r.get("creator", "")), bool(r.get("pinned", True)))
            )  # fmt: skip
    return items


async def fetch(magnet: str, trackers: list[str], max_bytes: float = math.inf) -> Any:
    """Join the swarm and download the file: {infoHash, name, length, blob, type} (a JS object); a torrent longer
    than `max_bytes` is left as soon as its metadata tells (an error)."""
    return await torrent_client.fetchFile(magnet, to_js(trackers), max_bytes)


RESUME_SECONDS = 30.0
"""How long seeding one kept file again may take (plus a second per 10 MB for files kept before .torrent files, which
are hashed again) before it is given up: the posts of followed creators wait until resume is over."""


def _resume_timeout(size: int, hashed: bool) -> float:
    return RESUME_SECONDS + (size / 10_000_000 if hashed else 0)


async def resume(trackers: list[str], order: list[str] | None = None) -> int:
    """Seed again every kept file (no download: the bytes are here), in `order` first; the number resumed. A file
    that cannot be seeded, or takes longer than its timeout, is logged and left for the next start."""
    index = await storage.get_json(INDEX_KEY)
    resumed = 0
    await _sweep(index if isinstance(index, dict) else {})
    if not isinstance(index, dict):
        return 0
    ranked = [h for h in order or [] if h in index] + [h for h in index if h not in (order or [])]
    for info_hash, record in ((h, index[h]) for h in ranked):
        if not isinstance(record, dict):
            continue
        file = await kept_file(info_hash, str(record.get("type", "")))
        if file is None:
            continue
        torrent_file = await idb_keyval.get(_torrent_key(info_hash))
        timeout = _resume_timeout(int(file.size), hashed=torrent_file is None)
        try:
            again = await asyncio.wait_for(_seed_again(info_hash, record, file, torrent_file, trackers), timeout)
        except TimeoutError:
            window.console.warn(f"could not seed {info_hash} again: no answer in {timeout:.0f} s")
            continue
        except Exception as exc:
            window.console.warn(f"could not seed {info_hash} again: {error_text(exc)}")
            continue
        if again != info_hash:
            window.console.warn(f"{info_hash} came back as {again}: its name or pieces changed")
        resumed += 1
    return resumed


async def _sweep(index: dict[str, Any]) -> None:
    """Delete the downloads on disk no kept file refers to (never finished, or not kept: a tab closed meanwhile)."""
    names = [name for name in [_disk_name(await idb_keyval.get(_file_key(h))) for h in index] if name]
    try:
        gone = (await torrent_client.sweepStored(to_js(names))).to_py()
    except Exception as exc:
        window.console.warn(f"could not clear old downloads: {error_text(exc)}")
        return
    if gone:
        window.console.info(f"deleted {len(gone)} downloads no longer kept")


async def _seed_again(info_hash: str, record: dict[str, Any], file: Any, torrent_file: Any, trackers: list[str]) -> str:
    """Seed one kept file again; the infoHash it got."""
    if torrent_file is not None:
        return str((await torrent_client.reseed(torrent_file, file, to_js(trackers), info_hash)).infoHash)
    # kept before the app kept .torrent files: seeded then with WebTorrent's piece length
    piece = piece_length.create_torrent_default(int(file.size))
    again = (await seed(file, str(record.get("name", info_hash)), trackers, keep=False, piece=piece)).info_hash
    if again == info_hash:
        await idb_keyval.set(_torrent_key(info_hash), await torrent_client.torrentFile(info_hash))
    return again


async def seeding() -> list[dict[str, Any]]:
    """The torrents of this page: infoHash, name, progress, numPeers, uploaded, downloaded, done, leechers (what
    its trackers count), leechersConnected."""
    return [dict(item) for item in (await torrent_client.list()).to_py()]


async def set_offers(plan: dict[str, int]) -> None:
    """The WebRTC offers complete torrents make with their announces (asknostr.seed_offers): those not named, none."""
    await torrent_client.setOffers(to_js(plan))
