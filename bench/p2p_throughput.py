"""Peer-to-peer throughput between two browsers: WebTorrent against a raw RTCDataChannel and plain HTTP.

    tools/netns.sh .venv/bin/python bench/p2p_throughput.py [--size MB] [--runs N] [--quick]  (part of `make bench`)

Two contexts of one Chromium (page A, page B; each its own renderer process) inside the private network namespace,
a file of --size MB of random bytes (a Blossom blob on a real Bridge, which page A fetches once), every
measurement repeated --runs times, interleaved, medians printed:

- HTTP: page B downloads the blob from the Bridge (request to last byte). The baseline of a media server.
- raw channel: A and B open an RTCPeerConnection (no ICE servers; Python carries offer and answer, host candidates
  in the SDP) and A sends the file over one ordered data channel in 16 KiB or 64 KiB messages, with backpressure
  (over 64 KiB or 256 KiB in bufferedAmount, wait for bufferedAmountLowThreshold: more queued is slower in
  Chromium). Timed at B from the first to the last byte; the best of them is the ceiling for one WebRTC peer.
- WebTorrent: A seeds the file (the vendored webtorrent, announcing to the local tracker), B adds the magnet and
  downloads it; timed from the first received byte to 'done' (the transfer, compared with the raw channel) and from
  add to 'done' (with tracker, connection and metadata). Piece length: create-torrent's default (WebTorrent's own,
  16 KiB for this size), the app's 256 KiB (asknostr.piece_length), 1 MiB. Where pieces are kept: WebTorrent's
  default in Chromium (one file per piece in the origin's private file system, "opfs") or the app's stores
  (static/js/piece_store.js: A reads pieces from its File, B keeps them in memory then Blobs, "app"), or every
  piece in memory on both sides ("memory": the most any store could give). "tuned": with the app's changes to
  WebTorrent's work per block on both pages (static/js/webtorrent_tuning.js: one data-channel message per BitTorrent
  message, where WebTorrent sends a block's header and its 16 KiB as two; one pending update pass). Knobs
  WebTorrent has no option for (its PIPELINE_MIN/MAX_DURATION are constants; maxWebConns is for web seeds only),
  set from outside in p2p_throughput.js: the request pipeline (B's speed estimate multiplied: "pipeline x4") and
  refilling it at once rather than in an idle callback ("eager"). The row marked "the app" is what the app does.

CPU ms/MB is the CPU time of all the browser's processes per MB: on a 2-core machine the two pages, the network
service and the WebRTC threads share two cores, and the raw channel alone keeps them nearly busy, so every
millisecond WebTorrent adds per MB (hashing, protocol, stores) lowers its speed.

The goal for WebTorrent is >= 0.8x the raw channel. Figures are printed, never asserted (but the bytes are checked).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402

from asknostr.piece_length import create_torrent_default  # noqa: E402
from bench.bench_site import bench_web_root  # noqa: E402
from devstack.processes import descendants, processes  # noqa: E402
from devstack.services import Service, free_port, start_bridge, start_tracker, stop_all  # noqa: E402
from tests.bridge.client import sha, upload  # noqa: E402
from tests.e2e.harness import CHROMIUM_FLAGS, chromium_path  # noqa: E402
from tests.unit.nostr_keys import keypair  # noqa: E402

KIB = 1024
PAGES = ("p2p_throughput.html", "p2p_throughput.js")


@dataclass(frozen=True)
class Raw:
    chunk: int
    high: int  # most bytes queued in the channel before the sender waits
    low: int  # ... until no more than these are queued (bufferedAmountLowThreshold)

    @property
    def label(self) -> str:
        return f"raw channel, {self.chunk // KIB} KiB messages, queue {self.low // KIB}-{self.high // KIB} KiB"


@dataclass(frozen=True)
class Torrent:
    piece: int  # 0: create-torrent's default
    store: str = "opfs"  # where pieces are kept: "opfs" (WebTorrent's default in Chromium) or "app" (piece_store.js)
    pipeline: float = 1  # B's request pipeline sized for this many times its measured speed
    eager: bool = False  # B refills its request pipeline at once, not in an idle callback
    tuned: bool = False  # both pages tune WebTorrent's work per block as the app does (webtorrent_tuning.js)

    @property
    def label(self) -> str:
        piece = f"{self.piece // KIB} KiB pieces" if self.piece else "default pieces"
        knobs = f", pipeline x{self.pipeline:g}" if self.pipeline != 1 else ""
        knobs += ", eager" if self.eager else ""
        knobs += ", tuned" if self.tuned else ""
        app = " (the app)" if self == APP else ""
        return f"WebTorrent, {piece}, {self.store} store{knobs}{app}"


RAWS = (
    Raw(16 * KIB, 64 * KIB, 64 * KIB),  # as simple-peer (WebTorrent's WebRTC wrapper) does, with its 16 KiB blocks
    Raw(64 * KIB, 64 * KIB, 32 * KIB),
    Raw(64 * KIB, 64 * KIB, 64 * KIB),
    Raw(64 * KIB, 256 * KIB, 64 * KIB),  # more queued is slower in Chromium
)
# asknostr.piece_length.for_size(20 MB), static/js/piece_store.js, static/js/webtorrent_tuning.js
APP = Torrent(256 * KIB, store="app", tuned=True)
TORRENTS = (
    Torrent(0),  # WebTorrent as it comes
    Torrent(256 * KIB),
    Torrent(1024 * KIB),
    Torrent(0, store="app"),
    Torrent(256 * KIB, store="app"),
    APP,
    Torrent(1024 * KIB, store="app", tuned=True),
    Torrent(256 * KIB, store="app", tuned=True, eager=True),
    Torrent(256 * KIB, store="app", tuned=True, pipeline=4),
    Torrent(256 * KIB, store="memory", tuned=True),  # every piece in memory on both sides: the most any store
)
QUICK = (RAWS[1], (TORRENTS[0], TORRENTS[4], APP, TORRENTS[-1]))  # --quick: the best raw channel, WebTorrent as it
# comes, the app's stores with WebTorrent's two messages per block, the app, every piece in memory


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_context().new_page()
    page.on("pageerror", lambda exc: print(f"  page error: {exc}", file=sys.stderr))
    page.goto(url)
    page.wait_for_selector("body.ready", timeout=30_000)
    return page


def chromium_cpu() -> float:
    """CPU seconds used so far by the Chromium processes under this one (the browser, its renderers, its network
    and GPU processes). Both pages share the machine's cores, so a transfer is bounded by what it costs."""
    table = processes()
    return sum(table[pid].cpu_seconds for pid in descendants(os.getpid(), table) if b"chrom" in table[pid].command)


def raw_channel(a: Page, b: Page, raw: Raw, size: int) -> tuple[float, float]:
    """Seconds from B's first received byte to its last (the first message not counted), scaled to `size`, and the
    CPU seconds the browser used for the whole exchange."""
    cpu = chromium_cpu()
    offer = a.evaluate("() => bench.offer()")
    answer = b.evaluate("([offer, size]) => bench.answer(offer, size)", [offer, size])
    a.evaluate("(answer) => bench.accept(answer)", answer)
    a.evaluate("(args) => bench.send(args)", [raw.chunk, raw.high, raw.low])
    got: dict[str, float] = b.evaluate("() => bench.received()")
    return float(got["ms"]) / 1000 * size / got["size"], chromium_cpu() - cpu


def webtorrent(
    a: Page, b: Page, case: Torrent, tracker: str, name: str, data: tuple[int, str]
) -> tuple[float, float, int, float]:
    """(add → done, first byte → done) in seconds, the piece length, and the CPU seconds the browser used from add to
    done, of one download from A alone."""
    size, digest = data
    piece = case.piece or create_torrent_default(size)
    knobs = {"pipeline": case.pipeline, "eager": case.eager, "store": case.store, "tuned": case.tuned}
    for attempt in "ab":  # if B finds no peer (it did when both announced at once, before oneConnectionPerPair)
        seed = [tracker, attempt + name, piece, case.store, case.tuned]
        seeded: dict[str, Any] = a.evaluate("(args) => bench.seed(args)", seed)
        cpu = chromium_cpu()
        try:
            got: dict[str, Any] = b.evaluate("(args) => bench.download(args)", [seeded["magnet"], knobs])
            break
        except PlaywrightError as exc:
            print(f"  {case.label}: {exc.message}; seeder: {a.evaluate('() => bench.state()')}", file=sys.stderr)
            if attempt == "b":
                raise
    cpu = chromium_cpu() - cpu
    assert got["peers"] == ["webrtc"] and b.evaluate("() => bench.downloadedSha256()") == digest, got
    return got["total"] / 1000, got["transfer"] / 1000, int(seeded["pieceLength"]), cpu


def settle(*pages: Page) -> None:
    """Start a measurement from a quiet machine: the last one's garbage collected (window.gc, exposed by the
    --expose-gc flag) and half a second for what it left (a torrent's store being deleted) to finish. Without it the
    measurement after a costly one paid part of its cost."""
    for page in pages:
        page.evaluate("() => window.gc && window.gc()")
    pages[0].wait_for_timeout(500)


def rotated(torrents: tuple[Torrent, ...], run: int) -> list[tuple[int, Torrent]]:
    """The cases numbered, each run starting one further: no case always follows the same one."""
    numbered = list(enumerate(torrents))
    shift = run % len(numbered)
    return numbered[shift:] + numbered[:shift]


def measure(bridge: Service, tracker: Service, size: int, runs: int, quick: bool) -> None:
    raws, torrents = ((QUICK[0],), QUICK[1]) if quick else (RAWS, TORRENTS)
    data = os.urandom(size)
    url, digest = upload(bridge.extra["media_url"], data, keypair(3)[0]), sha(data)
    seconds: dict[str, list[float]] = defaultdict(list)  # label → seconds of each run
    setup: dict[str, list[float]] = defaultdict(list)  # WebTorrent: add → done
    cpu: dict[str, list[float]] = defaultdict(list)  # label → CPU seconds of each run (not for HTTP)
    pieces: dict[str, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=[*CHROMIUM_FLAGS, "--js-flags=--expose-gc"])
        try:
            a, b = (open_page(browser, f"{bridge.url}/bench/p2p_throughput.html") for _ in "AB")
            assert a.evaluate("(url) => bench.load(url)", url) == digest
            for run in range(runs):
                got = b.evaluate("(url) => bench.http(url)", url)
                assert got["size"] == size
                seconds["HTTP from the Bridge"].append(got["ms"] / 1000)
                for raw in raws:
                    settle(a, b)
                    took, used = raw_channel(a, b, raw, size)
                    seconds[raw.label].append(took)
                    cpu[raw.label].append(used)
                for n, case in rotated(torrents, run):
                    name = f"r{run}c{n}.bin"  # a new torrent each time (the name is in the info dict)
                    settle(a, b)
                    got = webtorrent(a, b, case, tracker.url, name, (size, digest))
                    total, transfer, pieces[case.label], used = got
                    seconds[case.label].append(transfer)
                    cpu[case.label].append(used)
                    setup[case.label].append(total)
                print(f"  run {run + 1}/{runs} done", file=sys.stderr)
        finally:
            browser.close()
    report(seconds, setup, cpu, pieces, size, runs)


def report(
    seconds: dict[str, list[float]],
    setup: dict[str, list[float]],
    cpu: dict[str, list[float]],
    pieces: dict[str, int],
    size: int,
    runs: int,
) -> None:
    mb = size / 1e6
    rate = {label: mb / statistics.median(values) for label, values in seconds.items()}
    http = rate["HTTP from the Bridge"]
    raw_label = max((r.label for r in RAWS if r.label in rate), key=rate.__getitem__)
    ceiling = rate[raw_label]
    print(f"\npeer-to-peer throughput: {mb:.1f} MB of random bytes, median of {runs} runs, {os.cpu_count()} CPUs")
    print("  MB/s: first to last byte received (HTTP: request to last byte); MB = 10^6 bytes")
    print(f"  x raw: against the best raw channel ({raw_label}); add→done: WebTorrent from add() to 'done'")
    print("  CPU ms/MB: CPU time of all the browser's processes (both pages, network, GPU) per MB sent, from the")
    print("  offer (raw) or add() (WebTorrent) to the last byte: the two pages share the machine's cores")
    print(f"  {'path':<72} {'MB/s':>7} {'x raw':>6} {'x HTTP':>7} {'add→done MB/s':>14} {'CPU ms/MB':>10}")
    for label, value in rate.items():
        extra = f"{mb / statistics.median(setup[label]):.1f}" if label in setup else ""
        used = f"{1000 * statistics.median(cpu[label]) / mb:.0f}" if label in cpu else ""
        shown = label
        if label in setup:
            shown = label.replace("default pieces", f"default pieces ({pieces[label] // KIB} KiB)")
        print(f"  {shown:<72} {value:7.1f} {value / ceiling:6.2f} {value / http:7.2f} {extra:>14} {used:>10}")
    for name, label in (("the app", APP.label), ("best WebTorrent", max(setup, key=rate.__getitem__))):
        verdict = "reaches" if rate[label] >= 0.8 * ceiling else "does NOT reach"
        print(f"  {name}: {label}, {rate[label] / ceiling:.2f}x raw: {verdict} the 0.8x goal")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=float, default=20, help="file size in MB, 10^6 bytes (default 20)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one raw channel; WebTorrent as it comes, the app, memory")
    args = parser.parse_args()
    size = int(args.size * 1e6)
    with tempfile.TemporaryDirectory() as tmp:
        web_root = bench_web_root(Path(tmp), PAGES).parent
        services: list[Service] = []
        try:
            tracker = start_tracker(Path(tmp), free_port())
            services.append(tracker)
            bridge = start_bridge(Path(tmp), free_port(), relays=[], trackers=[], web_root=web_root)
            services.append(bridge)
            t0 = time.perf_counter()
            measure(bridge, tracker, size, args.runs, args.quick)
            print(f"  ({time.perf_counter() - t0:.0f} s in all)")
        finally:
            stop_all(services)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
