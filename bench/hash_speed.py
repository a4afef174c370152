"""Hashing a picked file in Chromium, as the composer does (static/js/hashing.js: a worker reads it in slices), against
`sha256sum` on the same file in the same run; and the memory the browser adds while it hashes.

    tools/netns.sh .venv/bin/python bench/hash_speed.py [--size MB] [--rounds N]

The file (random bytes, 1 GB unless --size) is picked through an <input type=file>, so Chromium reads it from disk
like a user's file. Two ways per round: SHA-256 alone (`file_probe.sha256`, what a poster costs) and SHA-256 with the
torrent piece SHA-1s in the app's piece length (`file_probe.hashes`, what the composer does before seeding). Prints
MB/s and the ratio to sha256sum (timed before and after the browser, the mean taken: the machine is shared), and
the peak memory added by all the browser's processes while hashing: their proportional set size (PSS, from
/proc/<pid>/smaps_rollup, so shared pages count once) sampled every 50 ms, less what they held just before.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from asknostr import piece_length  # noqa: E402
from devstack.processes import descendants, processes  # noqa: E402
from devstack.services import free_port, start_bridge  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, chromium_path  # noqa: E402

MB = 1_000_000
SETUP = """async () => {
  window.probe = await import('/static/js/file_probe.js')
  const input = document.createElement('input')
  input.type = 'file'
  input.id = 'picked'
  document.body.append(input)
}"""
HASH = """async ([piece]) => {
  const file = document.getElementById('picked').files[0]
  const started = performance.now()
  const got = piece ? await probe.hashes(file, piece) : { sha256: await probe.sha256(file) }
  return { ms: performance.now() - started, sha256: got.sha256 }
}"""


def browser_pss() -> int:
    """Bytes of PSS of every Chromium process under this one (one that ends while read is left out)."""
    table = processes()
    total = 0
    for pid in descendants(os.getpid(), table):
        if b"chrom" not in table[pid].command:
            continue
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
                break
    return total


class PeakMemory:
    """The most browser_pss() reads while running, sampled every 50 ms on a thread of its own."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, browser_pss())
            self._stop.wait(0.05)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, browser_pss())


def write_file(path: Path, size: int) -> str:
    """Random bytes (nothing a hasher could shortcut); their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 16 * 1024 * 1024))
            digest.update(block)
            out.write(block)
            left -= len(block)
    return digest.hexdigest()


def sha256sum(path: Path, want: str) -> float:
    started = time.perf_counter()
    out = subprocess.run(["sha256sum", str(path)], capture_output=True, check=True, text=True).stdout
    seconds = time.perf_counter() - started
    assert out.split()[0] == want, out
    return seconds


def hash_in_browser(page: Page, piece: int, want: str) -> tuple[float, int]:
    """Seconds to hash the picked file, and the peak memory (bytes) the browser added meanwhile."""
    time.sleep(0.5)  # what the page set up has settled
    before = browser_pss()
    with PeakMemory() as memory:
        got = page.evaluate(HASH, [piece])
    assert got["sha256"] == want, got
    return float(got["ms"]) / 1000, max(0, memory.peak - before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1000, help="file size in MB (default 1000)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    size = args.size * MB
    piece = piece_length.for_size(size)
    rows: list[tuple[str, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "picked.bin"
        want = write_file(path, size)
        native = [sha256sum(path, want)]
        bridge = start_bridge(Path(tmp) / "data", free_port(), relays=[], trackers=[])
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
                page = browser.new_page()
                page.on("pageerror", lambda exc: print(f"  page error: {exc}", file=sys.stderr))
                page.goto(f"{bridge.url}/config.json")
                page.evaluate(SETUP)
                page.set_input_files("#picked", str(path))
                for round_ in range(1, args.rounds + 1):
                    for label, length in (("sha256", 0), (f"sha256 + pieces of {piece // 1024} KiB", piece)):
                        seconds, added = hash_in_browser(page, length, want)
                        rows.append((f"{label} (round {round_})", seconds, added))
                browser.close()
        finally:
            bridge.stop()
        native.append(sha256sum(path, want))
    base = sum(native) / len(native)
    print(f"Hashing a {args.size} MB file picked in Chromium (a worker reading 8 MiB at a time) against sha256sum")
    print(f"sha256sum: {size / MB / base:.0f} MB/s ({' and '.join(f'{s:.2f}' for s in native)} s)")
    print(f"{'':36}{'MB/s':>8}{'ratio':>9}{'peak added memory':>20}")
    for label, seconds, added in rows:
        print(f"{label:<36}{size / MB / seconds:>8.0f}{base / seconds:>8.2f}x{added / 2**20:>16.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
