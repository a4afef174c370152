"""Time-to-interactive of the app against a bare `loadPyodide` page served the same way, cold and warm.

    make bench        (or: tools/netns.sh .venv/bin/python bench/boot_time.py --runs 5)

Both pages come from the real Bridge on loopback, with the same vendored Pyodide. "Interactive" is the moment the
page marks `ready` (the app: identity loaded, forms enabled; the bare page: Python ran a line), read from
the page's own clock. Cold runs use a
fresh browser context (no HTTP cache, no service worker); warm runs reload the same context. The order alternates,
since caching favours whatever runs second. Prints medians and the app/bare ratio; targets: warm ratio <= 1.15,
shell painted (first contentful paint) < 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from bench.bench_site import bench_web_root  # noqa: E402
from devstack.services import free_port, start_bridge, start_relay, start_tracker, stop_all  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, chromium_path  # noqa: E402

PAGES = {"bare": "bench/bare_pyodide.html", "app": ""}


READY = "performance.getEntriesByName('ready')[0].startTime / 1000"
STAGES = (
    "['boot-script', 'pyodide', 'python', 'imported', 'ready']"
    ".map((n) => (performance.getEntriesByName(n)[0]?.startTime ?? NaN) / 1000)"
)
PAINT = "(performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN) / 1000"


STAGE_NAMES = (
    "page until boot.js runs",
    "loadPyodide",
    "bundle, JS modules, main.py",
    "importing the app's Python",
    "start(): keys, settings, config",
)


def load(
    browser: Browser, url: str, warm_reloads: int, stages: list[list[float]] | None = None
) -> tuple[float, list[float], float]:
    """One cold load and `warm_reloads` warm ones in the same context: seconds from navigation start to the page's
    `ready` mark (the page's own clock: the old page's unload and the driver's polling are not counted), and the
    cold load's first contentful paint."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body.ready", timeout=120_000)
    cold, fcp = page.evaluate(READY), page.evaluate(PAINT)
    if stages is not None:  # the app: its service worker (registered once it is up) has precached, as a returning
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # user would have it
    page.wait_for_timeout(1500)
    warm = []
    for _ in range(warm_reloads):
        page.reload()
        page.wait_for_selector("body.ready", timeout=120_000)
        warm.append(page.evaluate(READY))
        if stages is not None:  # the app's warm loads: seconds of each stage between its marks
            boot, pyodide, python, imported, ready = page.evaluate(STAGES)
            stages.append([boot, pyodide - boot, python - pyodide, imported - python, ready - imported])
    context.close()
    return cold, warm, fcp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=4, help="cold loads per page (each followed by warm reloads)")
    parser.add_argument("--warm", type=int, default=2, help="warm reloads after each cold load")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        web_root = bench_web_root(Path(tmp), ("bare_pyodide.html", "bare_pyodide.js")).parent
        services = [start_relay(data, free_port()), start_tracker(data, free_port())]
        services.append(
            start_bridge(data, free_port(), relays=[services[0].url], trackers=[services[1].url], web_root=web_root)
        )
        results: dict[str, dict[str, list[float]]] = {name: {"cold": [], "warm": [], "fcp": []} for name in PAGES}
        stages: list[list[float]] = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
                for run in range(args.runs):
                    order = list(PAGES) if run % 2 == 0 else list(reversed(PAGES))
                    for name in order:
                        url = f"{services[-1].url}/{PAGES[name]}"
                        cold, warm, fcp = load(browser, url, args.warm, stages if name == "app" else None)
                        results[name]["cold"].append(cold)
                        results[name]["warm"] += warm
                        results[name]["fcp"].append(fcp)
                        warm_text = " ".join(f"{w:5.2f}" for w in warm)
                        print(f"run {run + 1} {name:<4} cold {cold:5.2f} s  warm {warm_text} s", flush=True)
                browser.close()
        finally:
            stop_all(services)
    med = {name: {k: statistics.median(v) for k, v in r.items()} for name, r in results.items()}
    print(f"\n{'':6}{'cold (median)':>16}{'warm (median)':>16}{'first paint':>14}")
    for name in PAGES:
        m = med[name]
        print(f"{name:<6}{m['cold']:>14.2f} s{m['warm']:>14.2f} s{m['fcp']:>12.3f} s")
    print("app, warm, where the time goes (median s):")
    for n, stage in enumerate(STAGE_NAMES):
        print(f"  {stage:<34}{statistics.median(s[n] for s in stages):6.2f} s")
    print(
        f"ratio app/bare: cold {med['app']['cold'] / med['bare']['cold']:.2f}x, "
        f"warm {med['app']['warm'] / med['bare']['warm']:.2f}x (target <= 1.15x); "
        f"app shell painted at {med['app']['fcp']:.3f} s (target < 0.3 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
