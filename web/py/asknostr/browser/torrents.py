"""The browser's WebTorrent client (through static/js/torrent_client.js): seed a post's files, and seed them again
after a reload from the copies kept in IndexedDB (the File objects themselves, stored by idb-keyval)."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Any

from pyscript import window
from pyscript.ffi import to_js
from pyscript.js_modules import idb_keyval, torrent_client

from asknostr.browser import storage

_index_lock = asyncio.Lock()
INDEX_KEY = "seeds"
"""JSON {infoHash: {name, type, size}} of the files this browser seeds."""


def _file_key(info_hash: str) -> str:
    return f"seed-file:{info_hash}"


@dataclass(frozen=True)
class Seeded:
    info_hash: str
    magnet: str
    torrent: str  # base64 of the .torrent file (what the Bridge ping carries)


def configure(ice_servers: list[object]) -> None:
    torrent_client.configure(to_js(ice_servers, dict_converter=window.Object.fromEntries))


async def seed(file: Any, name: str, trackers: list[str], *, keep: bool = True) -> Seeded:
    """Seed `file` (a File/Blob) under `name` at once; with `keep`, remember it so a reload seeds it again."""
    result = await torrent_client.seed(file, name, to_js(trackers))
    info_hash = str(result.infoHash)
    torrent = base64.b64encode(bytes(result.torrentFile.to_py())).decode()
    if keep:
        await idb_keyval.set(_file_key(info_hash), file)
        async with _index_lock:  # two files posted together: read-modify-write one at a time
            index = await storage.get_json(INDEX_KEY) or {}
            index[info_hash] = {"name": name, "type": str(file.type), "size": int(file.size)}
            await storage.set_json(INDEX_KEY, index)
    return Seeded(info_hash, str(result.magnetURI), torrent)


async def resume(trackers: list[str]) -> int:
    """Seed again every kept file (no download: the bytes are here); the number resumed."""
    index = await storage.get_json(INDEX_KEY)
    resumed = 0
    for info_hash, record in (index or {}).items() if isinstance(index, dict) else ():
        file = await idb_keyval.get(_file_key(info_hash))
        if file is None or not isinstance(record, dict):
            continue
        try:
            seeded = await seed(file, str(record.get("name", info_hash)), trackers, keep=False)
        except Exception as exc:
            window.console.warn(f"could not seed {info_hash} again: {exc}")
            continue
        if seeded.info_hash != info_hash:
            window.console.warn(f"{info_hash} came back as {seeded.info_hash}: trackers or name changed")
        resumed += 1
    return resumed


async def seeding() -> list[dict[str, Any]]:
    """The torrents of this page: infoHash, name, progress, numPeers, uploaded, downloaded, done."""
    return [dict(item) for item in (await torrent_client.list()).to_py()]
