"""The quota pruner's decision over 10,000 kept torrents: inside Pyodide (Chromium) against CPython, same code.

    tools/netns.sh .venv/bin/python bench/prune_speed.py      (part of `make bench`)

Goal: a prune decision (and the start-up re-seed order) over 10,000 torrents in <= 50 ms inside Pyodide.
Medians of 21 runs; the Pyodide side runs the app's own bundled package (static/vendor/asknostr.zip).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import sync_playwright  # noqa: E402

from asknostr.quota_pruner import Kept, Ranks, plan_prune, resume_order  # noqa: E402
from bench.bench_site import bench_web_root  # noqa: E402
from devstack.services import free_port, start_bridge  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, chromium_path  # noqa: E402


def cpython() -> tuple[float, float]:
    creators = [f"{n:064x}" for n in range(200)]
    ranks = Ranks(frozenset(creators[:10]), frozenset(creators[10:30]), frozenset(creators[:150]))
    kept = [
        Kept(f"{n:040x}", 1_000_000 + n, n, (n * 7919) % 10_000, creators[n % 200], n % 50 == 0) for n in range(10_000)
    ]
    quota = sum(k.size for k in kept)
    prune, order = [], []
    for _ in range(21):
        t = time.perf_counter()
        plan_prune(kept, 50_000_000, quota, ranks)
        prune.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        resume_order(kept, ranks)
        order.append((time.perf_counter() - t) * 1000)
    return statistics.median(prune), statistics.median(order)


def pyodide() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        web_root = bench_web_root(Path(tmp), ("prune_speed.html", "prune_speed.js")).parent
        bridge = start_bridge(Path(tmp) / "data", free_port(), relays=[], trackers=[], web_root=web_root)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
                page = browser.new_page()
                page.goto(f"{bridge.url}/bench/prune_speed.html")
                page.wait_for_selector("body.ready", timeout=120_000)
                prune, order = (float(x) for x in page.inner_text("#status").split())
                browser.close()
        finally:
            bridge.stop()
    return prune, order


def main() -> int:
    native = cpython()
    browser = pyodide()
    print("quota pruner, 10,000 kept torrents, 50 MB to free (median of 21 runs)")
    print(
        f"  plan_prune    CPython {native[0]:6.2f} ms   Pyodide {browser[0]:6.2f} ms   ({browser[0] / native[0]:.1f}x)"
    )
    print(
        f"  resume_order  CPython {native[1]:6.2f} ms   Pyodide {browser[1]:6.2f} ms   ({browser[1] / native[1]:.1f}x)"
    )
    print(f"  goal: <= 50 ms in Pyodide -> {'met' if browser[0] <= 50 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
