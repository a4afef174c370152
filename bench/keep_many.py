"""A browser that keeps many files: is it still reachable, and what does keeping cost it?

    tools/netns.sh .venv/bin/python bench/keep_many.py [--counts 10,100,1000] [--size BYTES]  (part of `make bench`)

For each count, a fresh Chromium context (the keeper) seeds that many files of --size random bytes through the
app's own torrent client (static/js/torrent_client.js, announcing to a real tracker), as a follower's browser does
with what it keeps; then it idles --idle seconds. Printed for the keeper, idle: RTCPeerConnections open and made
(Chromium refuses past 500 a page), CPU share of its renderer's main thread and its JS heap. Then a second context
(a new follower) downloads three of the kept files, one at a time: seconds to the whole file, or "none" when no
peer served it within --timeout s. Baseline in the same run: the same download from a keeper of 1 file.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import Browser, CDPSession, sync_playwright  # noqa: E402

from devstack.services import Service, free_port, start_bridge, start_tracker, stop_all  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, chromium_path  # noqa: E402
from tests.e2e.many_torrents import client_page, fetch_one, peer_connections, seed_many  # noqa: E402


def metrics(cdp: CDPSession) -> dict[str, float]:
    got = cdp.send("Performance.getMetrics")
    return {m["name"]: float(m["value"]) for m in got["metrics"]}


def keeper_run(browser: Browser, origin: str, tracker: str, count: int, args: argparse.Namespace) -> dict[str, Any]:
    keeper = browser.new_context()
    follower = browser.new_context()
    try:
        page = client_page(keeper, origin)
        cdp = keeper.new_cdp_session(page)
        cdp.send("Performance.enable")
        t0 = time.perf_counter()
        magnets = seed_many(page, count, args.size, tracker)
        seeded = time.perf_counter() - t0
        before = metrics(cdp)
        idle_from = time.perf_counter()
        time.sleep(args.idle)
        after = metrics(cdp)
        idle = time.perf_counter() - idle_from
        pcs = peer_connections(page)
        fetcher = client_page(follower, origin)
        times = []
        for magnet in random.sample(magnets, min(3, count)):
            times.append(fetch_one(fetcher, magnet, tracker, args.timeout)["seconds"])
        return {
            "count": count,
            "seeded": seeded,
            "open": pcs["open"],
            "made": pcs["made"],
            "refused": pcs["refused"],
            "cpu": (after["TaskDuration"] - before["TaskDuration"]) / idle,
            "heap": after["JSHeapUsedSize"] / 1e6,
            "fetch": times,
            "open_after": peer_connections(page)["open"],
        }
    finally:
        keeper.close()
        follower.close()


def show(seconds: list[float | None], baseline: float) -> str:
    got = [s for s in seconds if s is not None]
    text = " ".join("none" if s is None else f"{s:.2f}" for s in seconds)
    ratio = f"{statistics.median(got) / baseline:6.1f}x" if got and len(got) == len(seconds) else "     -"
    return f"{text:<20} {ratio}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="10,100,1000")
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        services: list[Service] = []
        try:
            tracker = start_tracker(Path(tmp), free_port())
            services.append(tracker)
            bridge = start_bridge(Path(tmp), free_port(), relays=[], trackers=[tracker.url])
            services.append(bridge)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
                try:
                    base = keeper_run(browser, bridge.url, tracker.url, 1, args)
                    rows = [keeper_run(browser, bridge.url, tracker.url, count, args) for count in counts]
                finally:
                    browser.close()
        finally:
            stop_all(services)
    baseline = statistics.median(s for s in base["fetch"] if s is not None) if base["fetch"][0] else 1.0
    print(f"a browser keeping N files of {args.size} bytes; a new one downloads 3 (timeout {args.timeout:.0f} s)")
    print(f"baseline: from a keeper of 1 file, {baseline:.2f} s")
    print(" kept  seeded s  PCs open idle/made/refused  main-thread CPU  JS heap MB  download s (each)   vs baseline")
    for row in rows:
        pcs = f"{row['open']}/{row['made']}/{row['refused']}"
        print(
            f"{row['count']:5d}  {row['seeded']:8.1f}  {pcs:>26}  {row['cpu']:14.1%}  {row['heap']:10.1f}  "
            f"{show(row['fetch'], baseline)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
