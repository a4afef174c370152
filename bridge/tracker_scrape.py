"""Scrape WebTorrent (WebSocket) trackers: how many seeders (`complete`) each swarm has, as the tracker sees it.

The WebTorrent tracker protocol sends JSON text frames; infoHashes travel as "binary strings" (each byte one
code point, U+0000-U+00FF). A scrape is `{"action": "scrape", "info_hash": [<binary>, …]}` and the answer is
`{"action": "scrape", "files": {<binary>: {"complete": n, "incomplete": m, …}}}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable

import aiohttp

log = logging.getLogger(__name__)

TIMEOUT = 5.0
BATCH = 200


def _binary(info_hash: str) -> str:
    return bytes.fromhex(info_hash).decode("latin-1")


def _hex(key: str) -> str | None:
    if len(key) == 20 and all(ord(c) < 256 for c in key):
        return key.encode("latin-1").hex()
    if len(key) == 40:
        return key.lower()
    return None


def parse_scrape(message: object) -> dict[str, int]:
    """`complete` per hex infoHash from a scrape answer; {} when it is not one."""
    if not isinstance(message, dict) or message.get("action") not in ("scrape", 2):
        return {}
    files = message.get("files")
    if not isinstance(files, dict):
        return {}
    counts: dict[str, int] = {}
    for key, stats in files.items():
        info_hash = _hex(key) if isinstance(key, str) else None
        complete = stats.get("complete") if isinstance(stats, dict) else None
        if info_hash is not None and isinstance(complete, int) and not isinstance(complete, bool) and complete >= 0:
            counts[info_hash] = complete
    return counts


async def scrape(session: aiohttp.ClientSession, tracker: str, info_hashes: Iterable[str]) -> dict[str, int]:
    """Seeders per infoHash at one `ws(s)://` tracker; the infoHashes it did not answer for are missing."""
    wanted = list(dict.fromkeys(info_hashes))
    counts: dict[str, int] = {}
    if not wanted or not tracker.startswith(("ws://", "wss://")):
        return counts
    try:
        async with asyncio.timeout(TIMEOUT), session.ws_connect(tracker, heartbeat=None) as ws:
            for start in range(0, len(wanted), BATCH):
                batch = wanted[start : start + BATCH]
                asked = set(batch)  # a tracker's answer about other torrents is not taken
                await ws.send_str(json.dumps({"action": "scrape", "info_hash": [_binary(h) for h in batch]}))
                while not set(batch) <= counts.keys():
                    message = await ws.receive()
                    if message.type != aiohttp.WSMsgType.TEXT:
                        return counts
                    try:
                        answer = json.loads(message.data)
                    except ValueError:
                        continue
                    if isinstance(answer, dict) and "failure reason" in answer:
                        log.warning("tracker %s refused a scrape: %s", tracker, answer["failure reason"])
                        return counts
                    counts.update((h, n) for h, n in parse_scrape(answer).items() if h in asked)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.info("tracker %s did not answer a scrape: %s", tracker, exc or type(exc).__name__)
    return counts


async def scrape_all(trackers_by_torrent: dict[str, list[str]]) -> dict[str, int]:
    """The largest `complete` any of a torrent's trackers reports, per infoHash; missing when none answered."""
    by_tracker: dict[str, list[str]] = {}
    for info_hash, trackers in trackers_by_torrent.items():
        for tracker in trackers:
            by_tracker.setdefault(tracker, []).append(info_hash)
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(*(scrape(session, t, hashes) for t, hashes in by_tracker.items()))
    best: dict[str, int] = {}
    for counts in answers:
        for info_hash, complete in counts.items():
            best[info_hash] = max(best.get(info_hash, 0), complete)
    return best
