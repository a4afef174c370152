"""Could a Pyodide memory snapshot start the app faster? Time until the app's Python modules are imported:

    tools/netns.sh .venv/bin/python bench/boot_snapshot.py --runs 6

- plain: loadPyodide, then import the app's modules (what the app does, without the app's start()).
- snapshot: loadPyodide({_loadSnapshot}) with a snapshot made after those imports, read from Cache Storage.
- bare: loadPyodide alone (bench/bare_pyodide.html), the reference of bench/boot_time.py.
All warm (same browser context, alternating). Also prints the snapshot's size and the JS objects it could not
name (stored as null: the app could not run from such a snapshot as it is; see bench/snapshot_pyodide.js).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from bench.bench_site import bench_web_root  # noqa: E402
from devstack.services import free_port, start_bridge, stop_all  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, chromium_path  # noqa: E402

MARKS = "['python', 'imported', 'ready'].map((n) => (performance.getEntriesByName(n)[0]?.startTime ?? NaN) / 1000)"


def visit(page: Page, url: str) -> list[float]:
    page.goto(url)
    page.wait_for_selector("body.ready", timeout=120_000)
    text = page.inner_text("#status")
    if "snapshot_pyodide" in url and "imported true" not in text:
        raise SystemExit(f"{url}: {text}")
    marks: list[float] = page.evaluate(MARKS)
    return marks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pages = ("snapshot_pyodide.html", "snapshot_pyodide.js", "bare_pyodide.html", "bare_pyodide.js")
        web_root = bench_web_root(Path(tmp), pages).parent
        bridge = start_bridge(Path(tmp) / "data", free_port(), relays=[], trackers=[], web_root=web_root)
        base = f"{bridge.url}/bench/"
        times: dict[str, list[float]] = {"bare": [], "plain": [], "snapshot": []}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
                page = browser.new_context().new_page()
                visit(page, base + "bare_pyodide.html")
                visit(page, base + "snapshot_pyodide.html?mode=plain")
                made = visit(page, base + "snapshot_pyodide.html?mode=make")
                size = page.evaluate("window.snapshotBytes")
                unnamed = page.evaluate("window.unserializable")
                print(
                    f"snapshot made in {made[2] - made[1]:.2f} s: {size / 1e6:.1f} MB; JS objects it cannot name: "
                    f"{len(unnamed)} ({', '.join(sorted(set(unnamed)))})"
                )
                for run in range(args.runs):
                    order = [
                        ("bare", "bare_pyodide.html"),
                        ("plain", "snapshot_pyodide.html?mode=plain"),
                        ("snapshot", "snapshot_pyodide.html?mode=load"),
                    ]
                    if run % 2:
                        order.reverse()
                    for name, url in order:
                        page.goto("about:blank")
                        marks = visit(page, base + url)
                        times[name].append(marks[1] if name != "bare" else marks[2])
                    print(f"run {run + 1}: " + "  ".join(f"{n} {t[-1]:.2f} s" for n, t in times.items()), flush=True)
                browser.close()
        finally:
            stop_all([bridge])
    med = {name: statistics.median(t) for name, t in times.items()}
    print(
        "median s until the app's modules are imported (bare: Python up): "
        + ", ".join(f"{n} {m:.2f}" for n, m in med.items())
    )
    print(f"snapshot/bare {med['snapshot'] / med['bare']:.2f}x, plain/bare {med['plain'] / med['bare']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
