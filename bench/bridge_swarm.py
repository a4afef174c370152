"""The Bridge's swarm work: heartbeats ingested per second, ping-to-first-piece for a 10 MB file, and how fast the
Bridge seeds a browser against how fast a browser seeds another.

    tools/netns.sh .venv/bin/python bench/bridge_swarm.py [--variant NAME=JSON ...]    (part of `make bench`)

Heartbeats: N distinct keys each send one NIP-98 signed heartbeat (10 torrents each) to a real Bridge process,
over `--concurrency` connections; signing is done beforehand, so the figure is the Bridge's (HTTP, signature
check, parse, record). Baseline in the same run: GET /config.json (the same server's HTTP floor, no crypto).

Ping to first piece: a 10 MB file on the user's Blossom server (a second Bridge), pinged to the Bridge, then
downloaded by Chromium's WebTorrent from the Bridge alone over WebRTC (inside the private network namespace): plain
WebTorrent (its own store, no tuning) and create-torrent's pieces (16 KiB), as tests/e2e/test_bridge_seeding.py
downloads; its throughput is WebTorrent's, the next part compares seeders.
Baseline in the same run: the same browser fetching the same file over HTTP from the Bridge.

Seeding throughput over WebRTC: a file of --size bytes (random, new each run) is seeded as the app seeds it (its
piece length, asknostr.piece_length.for_size) by page A, and by the Bridge after a ping (the Bridge's libtorrent,
bridge.seeder as it is, in the Bridge process); page B downloads each from that one peer alone, with the app's
stores and tuning. Pages A and B are bench/p2p_throughput.py's (p2p_throughput.html/.js), so browser to browser is
measured as that bench measures "the app": first received byte to 'done', two contexts of one Chromium. The ratio
Bridge/browser is of medians of runs interleaved in the same browser. `--variant NAME=JSON` adds a row: the same
seeder code (bridge.seeder.Seeder) run in this process with libtorrent settings changed by JSON (apply_settings),
`"verify_first_requests": true` for libtorrent's seed mode as it comes (each piece hashed before its first block
leaves), and `"browser": {...}` for page B's download knobs (p2p_throughput.js: pipeline, eager, maxMessage): to
measure a change against the Bridge as it is, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

import aiohttp  # noqa: E402
from playwright.sync_api import CDPSession, Page, sync_playwright  # noqa: E402

from asknostr.piece_length import create_torrent_default, for_size  # noqa: E402
from bench.bench_site import bench_web_root  # noqa: E402
from bench.p2p_throughput import APP, PAGES, chromium_cpu, open_page, settle  # noqa: E402
from bridge.seeder import Seeder  # noqa: E402
from bridge.torrent import build_info  # noqa: E402
from devstack.processes import descendants, processes  # noqa: E402
from devstack.services import Service, free_port, start_bridge, start_tracker, stop_all  # noqa: E402
from tests.bridge.client import auth_header, info_hash_of, ping_payload, sha, signed_post, upload  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, WEBTORRENT_DOWNLOAD, chromium_path  # noqa: E402
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
                got: dict[str, Any] = page.evaluate(WEBTORRENT_DOWNLOAD, payload["magnet"])
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
    print(f"  whole file over WebRTC  {med('p2p_total'):6.2f} s  ({mb / med('p2p_total'):5.1f} MB/s, plain WebTorrent)")
    print(f"  whole file over HTTP    {med('http_total'):6.2f} s  ({mb / med('http_total'):5.1f} MB/s, baseline)")
    print(f"  ratio P2P/HTTP throughput {med('http_total') / med('p2p_total'):.2f}x")


T = TypeVar("T")


class LocalSeeder:
    """bridge.seeder.Seeder in this process, on an event loop of its own, with libtorrent settings changed: a
    variant of the Bridge's seeding measured beside the Bridge itself."""

    def __init__(self, root: Path, settings: dict[str, Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        settings = dict(settings)
        self.seeder = Seeder(root, verify_first_requests=bool(settings.pop("verify_first_requests", False)))
        self.call(self._start(settings))

    async def _start(self, settings: dict[str, Any]) -> None:
        self.seeder.start()
        if settings:
            self.seeder.session.apply_settings(settings)

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def seed(self, data: bytes, path: Path, name: str, piece: int, tracker: str) -> str:
        info = build_info([data], name, len(data), piece)
        path.write_bytes(data)
        self.call(self.seeder.seed(info, path, [tracker]))
        return f"magnet:?xt=urn:btih:{info.info_hash}&dn={name}&tr={tracker}"

    def close(self) -> None:
        self.call(self.seeder.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


BROWSER = "browser → browser (page A seeds, as the app)"
BRIDGE = "Bridge → browser (the Bridge process, bridge.seeder)"


def process_cpu(pid: int) -> float:
    """CPU seconds used so far by process `pid` and its descendants."""
    table = processes()
    return sum(table[p].cpu_seconds for p in {pid, *descendants(pid, table)} if p in table)


def busy(session: CDPSession) -> float:
    """Seconds a page's main thread has been busy since `Performance.enable` (Chromium's TaskDuration)."""
    metrics = session.send("Performance.getMetrics")["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))


def download(
    b: Page, b_session: CDPSession, magnet: str, knobs: dict[str, Any], digest: str, seeder: Any
) -> tuple[float, float, float, float, int, int]:
    """Seconds from B's first received byte to 'done', the bytes checked, from the one peer that seeds `magnet`;
    the CPU seconds the browser (both pages), `seeder()` (the seeder's CPU seconds so far) and B's main thread used
    meanwhile; the data-channel messages B received, and how many of them were under 1 KiB."""
    browser, seeding, page = chromium_cpu(), seeder(), busy(b_session)
    got: dict[str, Any] = b.evaluate("(args) => bench.download(args)", [magnet, knobs])
    browser, seeding, page = chromium_cpu() - browser, seeder() - seeding, busy(b_session) - page
    assert got["peers"] == ["webrtc"] and b.evaluate("() => bench.downloadedSha256()") == digest, got
    return float(got["transfer"]) / 1000, browser, seeding, page, got["messages"], got["small"]


def ping(bridge: Service, tracker: Service, url: str, data: bytes, name: str, piece: int, secret: str) -> str:
    """Have the Bridge seed `data` (at `url`) as a torrent of `piece`-byte pieces; its magnet."""
    info = build_info([data], name, len(data), piece)
    magnet = f"magnet:?xt=urn:btih:{info.info_hash}&dn={name}&tr={tracker.url}"
    payload = dict(ping_payload(url, data, tracker.url, name), magnet=magnet)
    payload["torrent"] = base64.b64encode(info.info_bytes).decode()
    status, answer = signed_post(f"{bridge.url}/api/ping", payload, secret)
    assert status == 200 and answer["state"] == "seeding", answer
    return magnet


def bench_seeding(
    bridge: Service, tracker: Service, size: int, runs: int, variants: dict[str, dict[str, Any]], tmp: Path
) -> None:
    secret = keypair(4)[0]
    pieces = sorted({for_size(size), create_torrent_default(size)}, reverse=True)  # the app's, other clients'
    app = {"pipeline": APP.pipeline, "eager": APP.eager, "store": APP.store, "tuned": APP.tuned, "count": True}
    local = {
        name: LocalSeeder(tmp / f"variant{n}", {k: x for k, x in settings.items() if k != "browser"})
        for n, (name, settings) in enumerate(variants.items())
    }
    who = [BROWSER, BRIDGE, *local]
    cases = [(piece, label) for piece in pieces for label in who]
    seconds: dict[tuple[int, str], list[float]] = defaultdict(list)
    cpu: dict[tuple[int, str], list[tuple[float, float, float]]] = defaultdict(list)  # browser, seeder, B per run
    messages: dict[tuple[int, str], list[list[int]]] = defaultdict(list)  # B's messages received: all, under 1 KiB
    bridge_pid = bridge.process.pid
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=[*CHROMIUM_FLAGS, "--js-flags=--expose-gc"])
        try:
            a, b = (open_page(browser, f"{bridge.url}/bench/p2p_throughput.html") for _ in "AB")
            b_session = b.context.new_cdp_session(b)
            b_session.send("Performance.enable")
            for run in range(runs):
                data = os.urandom(size)
                url, digest = upload(bridge.extra["media_url"], data, secret), sha(data)
                assert a.evaluate("(url) => bench.load(url)", url) == digest
                for n in range(len(cases)):  # each run starts one further: no case always follows the same one
                    piece, label = cases[(n + run) % len(cases)]
                    name = f"r{run}c{n}.bin"  # a torrent of its own (the name is in the info dict)
                    knobs = dict(app, **(variants.get(label, {}).get("browser") or {}))
                    settle(a, b)
                    seeder_cpu = time.process_time  # a seeder in this process (libtorrent's threads)
                    if label == BROWSER:
                        seeded = a.evaluate("(args) => bench.seed(args)", [tracker.url, name, piece, "app", True])
                        magnet = seeded["magnet"]
                        seeder_cpu = float  # page A's CPU is the browser's
                    elif label == BRIDGE:
                        magnet = ping(bridge, tracker, url, data, name, piece, secret)
                        seeder_cpu = lambda: process_cpu(bridge_pid)  # noqa: E731
                    else:
                        magnet = local[label].seed(data, tmp / f"{name}.data", name, piece, tracker.url)
                    took, browser_cpu, seeding_cpu, page_b, *message = download(
                        b, b_session, magnet, knobs, digest, seeder_cpu
                    )
                    seconds[piece, label].append(took)
                    cpu[piece, label].append((browser_cpu, seeding_cpu, page_b))
                    messages[piece, label].append(message)
                print(f"  seeding run {run + 1}/{runs} done", file=sys.stderr)
        finally:
            browser.close()
            for seeder in local.values():
                seeder.close()
    mb = size / 1e6
    rate = {case: mb / statistics.median(values) for case, values in seconds.items()}
    print(f"seeding over WebRTC: {mb:.0f} MB, one seeder, median of {runs} runs, interleaved")
    print("  MB/s from B's first received byte to 'done'; x browser: against browser → browser, same pieces;")
    print("  CPU ms/MB from add() to 'done': the browser's (both pages, its network service), the seeder's, and")
    print("  page B's main thread's (the receiver's JavaScript: WebTorrent, the store)")
    print("  messages/MB: data-channel messages B received per MB (of them under 1 KiB: a BitTorrent header alone)")
    print(f"  {'':<62} {'MB/s':>6}  {'x browser':>9}  {'CPU browser':>11} {'seeder':>6} {'B':>4} {'messages/MB':>12}")
    for piece in pieces:
        kind = "the app's" if piece == for_size(size) else "create-torrent's, other clients'"
        print(f"  pieces of {piece // 1024} KiB ({kind})")
        for label in who:
            ratio = rate[piece, label] / rate[piece, BROWSER]
            used = [statistics.median(c[i] for c in cpu[piece, label]) * 1000 / mb for i in (0, 1, 2)]
            count, small = (statistics.median(m[i] for m in messages[piece, label]) / mb for i in (0, 1))
            figures = f"{rate[piece, label]:6.1f}  {ratio:8.2f}x  {used[0]:11.0f} {used[1]:6.0f} {used[2]:4.0f}"
            print(f"    {label:<60} {figures} {count:5.0f} ({small:3.0f})")
    for label, settings in variants.items():
        print(f"    {label}: {json.dumps(settings)}")
    for piece in pieces:
        ratio = rate[piece, BRIDGE] / rate[piece, BROWSER]
        verdict = "reaches" if ratio >= 0.8 else "does NOT reach"
        paired = sorted(b / s for b, s in zip(seconds[piece, BROWSER], seconds[piece, BRIDGE], strict=True))
        each = f"per run {statistics.median(paired):.2f}x, {paired[0]:.2f}-{paired[-1]:.2f}"
        print(f"  ratio Bridge/browser, {piece // 1024} KiB pieces: {ratio:.2f}x ({each}): {verdict} the 0.8x goal")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heartbeats", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--size", type=int, default=10 * 1024 * 1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-first-piece", action="store_true", help="skip ping to first piece")
    parser.add_argument(
        "--variant", action="append", default=[], metavar="NAME=JSON", help="a seeding row: libtorrent settings"
    )
    args = parser.parse_args()
    variants = {name: json.loads(settings) for name, settings in (v.split("=", 1) for v in args.variant)}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        services: list[Service] = []
        try:
            tracker = start_tracker(data, free_port())
            services.append(tracker)
            unlimited = ("--heartbeats-per-key", "0", "--heartbeats-per-address", "0")
            allow = ("--fetch-allow-host", "127.0.0.1")
            web_root = bench_web_root(data, PAGES).parent
            bridge = start_bridge(
                data, free_port(), relays=[], trackers=[tracker.url], extra_args=unlimited + allow, web_root=web_root
            )
            services.append(bridge)
            media = start_bridge(data / "media", free_port(), relays=[], trackers=[])
            services.append(media)
            if args.heartbeats:
                bench_heartbeats(bridge, tracker, args.heartbeats, args.concurrency)
            if not args.no_first_piece:
                bench_first_piece(bridge, media, tracker, args.size, args.runs)
            bench_seeding(bridge, tracker, args.size, args.runs, variants, data)
        finally:
            stop_all(services)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
