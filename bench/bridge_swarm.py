"""The Bridge's swarm work: heartbeats ingested per second, and ping-to-first-piece for a 10 MB file.

    tools/netns.sh .venv/bin/python bench/bridge_swarm.py      (part of `make bench`)

Heartbeats: N distinct keys each send one NIP-98 signed heartbeat (10 torrents each) to a real Bridge process,
over `--concurrency` connections; signing is done beforehand, so the figure is the Bridge's (HTTP, signature
check, parse, record). Baseline in the same run: GET /config.json (the same server's HTTP floor, no crypto).

Ping to first piece: a 10 MB file on the user's Blossom server (a second Bridge), pinged to the Bridge, then
downloaded by Chromium's WebTorrent from the Bridge alone over WebRTC (inside the private network namespace).
Baseline in the same run: the same browser fetching the same file over HTTP from the Bridge.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

import aiohttp  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from devstack.services import Service, free_port, start_bridge, start_tracker, stop_all  # noqa: E402
from tests.bridge.client import auth_header, info_hash_of, ping_payload, signed_post, upload  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, chromium_path  # noqa: E402
from tests.e2e.test_bridge_seeding import DOWNLOAD  # noqa: E402
from tests.unit.nostr_keys import keypair, sign_event  # noqa: E402

FETCH = """async (url) => {
  const t0 = performance.now()
  const response = await fetch(url, { cache: 'no-store' })
  const reader = response.body.getReader()
  let first = null, size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (first === null) first = performance.now() - t0
    size += value.length
  }
  return { first, total: performance.now() - t0, size }
}"""


def signed_heartbeats(url: str, count: int, torrents: list[str]) -> list[tuple[bytes, str]]:
    body = json.dumps({"torrents": [{"info_hash": h, "seeders": 5} for h in torrents]}).encode()
    digest = hashlib.sha256(body).hexdigest()
    out = []
    for n in range(count):
        tags = [["u", url], ["method", "POST"], ["payload", digest]]
        event = sign_event({"kind": 27235, "content": "", "tags": tags}, keypair(10_000 + n)[0])
        out.append((body, auth_header(event)))
    return out


async def blast(method: str, url: str, requests: list[tuple[bytes, str]], concurrency: int) -> tuple[float, int]:
    """Seconds to send every request over `concurrency` connections; how many were answered 200."""
    queue = list(reversed(requests))
    ok = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ok
        while queue:
            body, header = queue.pop()
            headers = {"Authorization": header} if header else {}
            async with session.request(method, url, data=body or None, headers=headers) as response:
                await response.read()
                ok += response.status == 200

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - t0, ok


def bench_heartbeats(bridge: Service, tracker: Service, count: int, concurrency: int) -> None:
    secret = keypair(1)[0]
    torrents = []
    for n in range(10):  # ten torrents the Bridge holds, so the reports are recorded, not ignored
        data = os.urandom(20_000 + n)
        payload = ping_payload(upload(bridge.extra["media_url"], data, secret), data, tracker.url, f"t{n}.bin")
        assert signed_post(f"{bridge.url}/api/ping", payload, secret)[0] == 200
        torrents.append(info_hash_of(payload))
    beats = signed_heartbeats(f"{bridge.url}/api/heartbeat", count, torrents)
    plain = [(b"", "")] * count
    base_s, base_ok = asyncio.run(blast("GET", f"{bridge.url}/config.json", plain, concurrency))
    beat_s, beat_ok = asyncio.run(blast("POST", f"{bridge.url}/api/heartbeat", beats, concurrency))
    assert beat_ok == count and base_ok == count, (beat_ok, base_ok)
    print(f"heartbeats: {count} distinct keys x 10 torrents, {concurrency} connections")
    print(f"  GET /config.json (baseline)  {count / base_s:8.0f} req/s")
    print(f"  POST /api/heartbeat          {count / beat_s:8.0f} heartbeats/s  ({count * 10 / beat_s:.0f} reports/s)")
    print(f"  ratio heartbeat/baseline     {base_s / beat_s:8.2f}x")


def bench_first_piece(bridge: Service, media: Service, tracker: Service, size: int, runs: int) -> None:
    secret = keypair(2)[0]
    rows: list[dict[str, float]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            for run in range(runs):
                data = os.urandom(size)
                url = upload(media.extra["media_url"], data, secret)
                payload = ping_payload(url, data, tracker.url, f"bench{run}.mp4")
                t0 = time.perf_counter()
                status, answer = signed_post(f"{bridge.url}/api/ping", payload, secret)
                pinged = time.perf_counter() - t0
                assert status == 200, answer
                page = browser.new_context().new_page()
                page.goto(bridge.url + "/config.json")
                joined = time.perf_counter()
                got: dict[str, Any] = page.evaluate(DOWNLOAD, payload["magnet"])
                assert got["sha256"] == hashlib.sha256(data).hexdigest() and got["peers"] == ["webrtc"]
                http: dict[str, Any] = page.evaluate(FETCH, f"{bridge.extra['media_url']}/{answer['sha256']}")
                assert http["size"] == size
                page.context.close()
                rows.append(
                    {
                        "ping": pinged,
                        "ping_to_first": pinged + (joined - t0 - pinged) + got["first"] / 1000,
                        "first": got["first"] / 1000,
                        "p2p_total": got["total"] / 1000,
                        "http_first": http["first"] / 1000,
                        "http_total": http["total"] / 1000,
                    }
                )
        finally:
            browser.close()

    def med(key: str) -> float:
        return statistics.median(row[key] for row in rows)

    mb = size / 1e6
    print(f"ping to first piece: {mb:.0f} MB, median of {runs} runs, the Bridge the only peer")
    print(f"  ping answered (download from the user's server + piece check)  {med('ping'):6.2f} s")
    print(f"  browser joined → first piece                                    {med('first'):6.2f} s")
    print(f"  ping sent → first piece in the browser                          {med('ping_to_first'):6.2f} s")
    print(f"  whole file over WebRTC  {med('p2p_total'):6.2f} s  ({mb / med('p2p_total'):5.1f} MB/s)")
    print(f"  whole file over HTTP    {med('http_total'):6.2f} s  ({mb / med('http_total'):5.1f} MB/s, baseline)")
    print(f"  ratio P2P/HTTP throughput {med('http_total') / med('p2p_total'):.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heartbeats", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--size", type=int, default=10 * 1024 * 1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        services: list[Service] = []
        try:
            tracker = start_tracker(data, free_port())
            services.append(tracker)
            unlimited = ("--heartbeats-per-key", "0", "--heartbeats-per-address", "0")
            allow = ("--fetch-allow-host", "127.0.0.1")
            bridge = start_bridge(data, free_port(), relays=[], trackers=[tracker.url], extra_args=unlimited + allow)
            services.append(bridge)
            media = start_bridge(data / "media", free_port(), relays=[], trackers=[])
            services.append(media)
            if args.heartbeats:
                bench_heartbeats(bridge, tracker, args.heartbeats, args.concurrency)
            bench_first_piece(bridge, media, tracker, args.size, args.runs)
        finally:
            stop_all(services)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
