"""WebTorrent between browsers behind simulated NATs, per pair of NAT kinds: whether they connect, the ICE time, the
time to the first byte, the throughput, and the share of the bytes that went through the TURN relay.

    tools/netns.sh .venv/bin/python bench/nat_pairs.py [--size MB] [--runs N]   (part of `make bench`)

The simulated internet of the tests (devstack/internet.py): the tracker, coturn and a Bridge serving the page on the
internet, four homes behind NAT routers (two home routers, "cone"; two "symmetric", as mobile carriers), one
Chromium in each. The seeder's page seeds --size MB of random bytes with WebTorrent as the app runs it (its piece
stores and tuning), the leecher's page downloads the magnet; both use the deployment's STUN server and a TURN
credential made as the Bridge makes them (POST /api/turn). getStats on every peer connection tells which
candidates carried the bytes and when ICE connected.

Goal: every pair connects; the first byte within 1 s; TURN carries bytes only where no direct path exists (between
two home routers: 0 %). Throughput is also printed as a ratio to the home-to-home pair of the same run (a direct
path: the baseline). Figures are printed, never asserted (but every download is checked whole).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from bench.bench_site import bench_web_root  # noqa: E402
from bridge.turn import credential  # noqa: E402
from devstack.internet import INTERNET, Internet, start_services  # noqa: E402
from devstack.services import stop_all  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, chromium_path  # noqa: E402

PAGES = ("nat_pairs.html", "nat_pairs.js")
SECRET = "nat-pairs-bench"
PIECE = 256 * 1024  # asknostr.piece_length for files of this size
HOMES = {"home-1": "cone", "home-2": "cone", "mobile-1": "symmetric", "mobile-2": "symmetric"}
PAIRS = (  # (label, seeder's home, leecher's home)
    ("home router -> home router", "home-1", "home-2"),
    ("symmetric -> symmetric", "mobile-1", "mobile-2"),
    ("home router -> symmetric", "home-1", "mobile-1"),
    ("symmetric -> home router", "mobile-1", "home-1"),
)
TIMEOUT_MS = 40_000


@dataclass
class Results:
    connected: int = 0
    tried: int = 0
    ice_ms: list[float] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)
    mb_per_s: list[float] = field(default_factory=list)
    relay_share: list[float] = field(default_factory=list)


def ice_servers() -> list[dict[str, object]]:
    username, password = credential(SECRET, "bench", int(time.time()) + 3600)
    turn: dict[str, object] = {
        "urls": [f"turn:{INTERNET}:3478?transport=udp"],
        "username": username,
        "credential": password,
    }
    return [{"urls": [f"stun:{INTERNET}:3478"]}, turn]


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_context().new_page()
    page.on("pageerror", lambda exc: print(f"  page error: {exc}", file=sys.stderr))
    page.goto(url)
    page.wait_for_selector("body.ready", timeout=30_000)
    page.evaluate("(servers) => bench.configure(servers)", ice_servers())
    return page


def transfer(seeder: Page, leecher: Page, tracker: str, name: str, size: int) -> dict[str, Any]:
    seeded: dict[str, Any] = seeder.evaluate("(args) => bench.seed(args)", [tracker, name, size, PIECE])
    got: dict[str, Any] = leecher.evaluate("(args) => bench.download(args)", [seeded["magnet"], TIMEOUT_MS])
    return got


def record(results: Results, got: dict[str, Any], size: int) -> None:
    results.tried += 1
    if not got["ok"]:
        return
    results.connected += 1
    pairs = got["pairs"]
    received = sum(p["received"] for p in pairs) or 1
    relayed = sum(p["received"] for p in pairs if "relay" in (p["local"], p["remote"]))
    carrying = max(pairs, key=lambda p: p["received"]) if pairs else None
    if carrying is not None and carrying["iceMs"] is not None:
        results.ice_ms.append(carrying["iceMs"])
    results.first_ms.append(got["firstMs"])
    results.mb_per_s.append(size / 1e6 / max(1e-3, (got["doneMs"] - got["firstMs"]) / 1000))
    results.relay_share.append(relayed / received)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(results: dict[str, Results]) -> None:
    baseline = median(results[PAIRS[0][0]].mb_per_s)
    print(f"\n{'pair (seeder -> leecher)':<28} {'connected':>9} {'ICE ms':>7} {'1st byte ms':>11} {'MB/s':>6} "
          f"{'x home':>6} {'via TURN':>8}")  # fmt: skip
    for label, _, _ in PAIRS:
        r = results[label]
        speed = median(r.mb_per_s)
        ratio = speed / baseline if speed is not None and baseline else None
        share = median(r.relay_share)
        print(f"{label:<28} {f'{r.connected}/{r.tried}':>9} {fmt(median(r.ice_ms), '.0f'):>7} "
              f"{fmt(median(r.first_ms), '.0f'):>11} {fmt(speed, '.2f'):>6} {fmt(ratio, '.2f'):>6} "
              f"{fmt(None if share is None else share * 100, '.0f') + ' %':>8}")  # fmt: skip
    connects = all(r.connected == r.tried for r in results.values())
    firsts = [m for r in results.values() for m in r.first_ms]
    direct = results[PAIRS[0][0]].relay_share
    print(f"\ngoal: every pair connects: {'yes' if connects else 'NO'}; first byte <= 1 s: "
          f"{'yes' if firsts and max(firsts) <= 1000 else 'NO'} (worst {fmt(max(firsts, default=None), '.0f')} ms); "
          f"home-to-home through TURN 0 %: {'yes' if direct and max(direct) == 0 else 'NO'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=float, default=4, help="MB per transfer (default 4)")
    parser.add_argument("--runs", type=int, default=3, help="transfers per pair (default 3)")
    args = parser.parse_args()
    size = int(args.size * 1e6)
    internet = Internet()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        bench_web_root(Path(tmp), PAGES)
        services = None
        browsers: dict[str, Browser] = {}
        try:
            internet.build()
            for home, kind in HOMES.items():
                internet.add_home(home, kind)
            services = start_services(internet, Path(tmp) / "data", turn_secret=SECRET, web_root=Path(tmp) / "web")
            for home in HOMES:
                launcher = internet.launcher(home, chromium_path(), Path(tmp))
                flags = [*CHROMIUM_FLAGS, *services.browser_flags()]
                browsers[home] = playwright.chromium.launch(executable_path=str(launcher), args=flags)
            url = f"{services.bridge.url}/bench/nat_pairs.html"
            results = {label: Results() for label, _, _ in PAIRS}
            print(f"{args.runs} transfers of {args.size:g} MB per pair; homes: "
                  + ", ".join(f"{h} ({k})" for h, k in HOMES.items()))  # fmt: skip
            for run in range(args.runs):
                for label, seeder_home, leecher_home in PAIRS:
                    seeder, leecher = open_page(browsers[seeder_home], url), open_page(browsers[leecher_home], url)
                    try:
                        got = transfer(seeder, leecher, services.tracker.url, f"r{run}-{seeder_home}.bin", size)
                        record(results[label], got, size)
                        state = "ok" if got["ok"] else f"FAILED ({got['peers']} peers)"
                        print(f"  run {run + 1}, {label}: {state}", flush=True)
                    finally:
                        seeder.context.close()
                        leecher.context.close()
            report(results)
        finally:
            for browser in browsers.values():
                browser.close()
            if services is not None:
                stop_all(services.all())
            internet.close()


if __name__ == "__main__":
    main()
