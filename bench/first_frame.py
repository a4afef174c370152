"""The viewer's time to first frame, over P2P and over HTTP, next to a plain <video> on the media server's URL.

    tools/netns.sh .venv/bin/python bench/first_frame.py [--runs 3] [--seconds 8] [--look 2]   (part of `make bench`)

A real stack on loopback (relay, tracker, Bridge serving the PWA) and a real Blossom server as the creator's media
server, in the private network namespace (WebRTC). The clip is a WebM recorded by Chromium itself (canvas +
MediaRecorder, VP8 at 8 Mbit/s). Per run, a creator posts it with the app (the Bridge is not pinged, so it does not
seed), then:
  - P2P: a viewer presses play while the creator's browser seeds it (the race picks P2P), as soon as the video is
    on screen; then another viewer presses play after looking at it for --look seconds (the viewer joins the swarm
    of a video in view ahead of play: tracker, peers and metadata are ready by then);
  - misbehaving peers (the creator's browser, the only seeder, is a real WebTorrent peer whose data-channel
    messages carrying blocks are held back; the other viewers' tabs are closed first): it connects and sends
    nothing; it sends one message of blocks, then nothing; it sends at --slow kB/s. No playback waits past 5 s: HTTP
    takes the rest, and the P2P bytes already here are kept;
  - HTTP: the creator's tab is closed, a second viewer presses play (the tracker knows no seeder: HTTP at once);
  - baseline: a blank page with <video src=url> on the media server (what any web app does).
"First frame" is the page's own clock from play() to the first video frame presented (requestVideoFrameCallback);
"complete" is until the viewer has the whole file and seeds it; "decided" is when the race chose the source that
finished (for the misbehaving peers: when HTTP took over). Figures are printed as ratios against HTTP alone and the
plain <video> of the same run, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "web" / "py")]

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from devstack.blossom import start_blossom  # noqa: E402
from devstack.services import free_port, start_bridge, start_relay, start_tracker, stop_all  # noqa: E402
from tests.e2e.clips import NOISE, record_clip  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    CHROMIUM_FLAGS,
    AppUser,
    Stack,
    chromium_path,
)
from tests.e2e.test_viewer import post_alone  # noqa: E402

# What the clip shows (tests.e2e.clips, 640x360 at 30 frames a second and 8 Mbit/s): noise-like shapes, for a
# bitrate near the target.

FIRST_FRAME = """async (selector) => {
  const video = document.querySelector(selector)
  video.muted = true
  const t0 = performance.now()
  const frame = new Promise((resolve) => video.requestVideoFrameCallback(() => resolve(performance.now() - t0)))
  await video.play()
  return await frame
}"""

BASELINE_PAGE = "<!doctype html><video id=v preload=none playsinline></video>"

# The creator's page as a misbehaving peer: its data-channel messages carrying blocks (handshake, bitfield, metadata
# and requests are far smaller) go out until `budget` bytes of them have (-1: no budget), at `rate` bytes/s at most
# (0: at once), each channel's messages in order; `misbehave` sets both again.
PEER = """() => {
  window.misbehave = (budget, rate) => { window.peerBudget = budget; window.peerRate = rate }
  window.misbehave(-1, 0)
  const send = RTCDataChannel.prototype.send
  const queues = new WeakMap()
  let free = 0 // when the rate allows the next message of blocks (ms)
  const sizeOf = (data) => data.byteLength ?? data.size ?? data.length
  const pump = (channel, queue) => {
    const size = sizeOf(queue[0])
    const wait = size > 1000 && window.peerRate ? Math.max(0, free - performance.now()) : 0
    setTimeout(() => {
      const data = queue.shift()
      if (size > 1000 && window.peerRate) free = Math.max(free, performance.now()) + size / window.peerRate * 1000
      if (channel.readyState === 'open') send.call(channel, data)
      if (queue.length) pump(channel, queue)
    }, wait)
  }
  RTCDataChannel.prototype.send = function (data) {
    const size = sizeOf(data)
    if (size > 1000 && window.peerBudget >= 0) {
      if (window.peerBudget === 0) return
      window.peerBudget = Math.max(0, window.peerBudget - size)
    }
    let queue = queues.get(this)
    if (!queue) { queue = []; queues.set(this, queue) }
    if (!window.peerRate && !queue.length) return send.call(this, data)
    queue.push(data)
    if (queue.length === 1) pump(this, queue)
  }
}"""


def viewer(browser: Browser, app_url: str) -> tuple[Any, Page]:
    """A fresh person with the app open on the community view (no request routing: nothing slows the page)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("body.ready", timeout=120_000)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30_000)
    page.click('.tab[data-view="community"]')
    return context, page


def watch(page: Page, info_hash: str, look: float = 0) -> dict[str, float | str]:
    """Play the post's video `look` s after it is on screen: ms to the first frame, the source the race chose, ms
    until the file is complete."""
    selector = f'figure.torrent-media[data-infohash="{info_hash}"]'
    page.locator(f"#community-feed {selector} video").wait_for(timeout=30_000)
    page.wait_for_timeout(look * 1000)
    t0 = time.monotonic()
    first = float(page.evaluate(FIRST_FRAME, f"#community-feed {selector} video"))
    page.wait_for_function(f"document.querySelector('{selector}').dataset.shared !== undefined", timeout=120_000)
    complete = (time.monotonic() - t0) * 1000
    data = page.evaluate(f"({{...document.querySelector('{selector}').dataset}})")
    return {"first": first, "complete": complete, "source": data["source"], "reason": data.get("reason", ""),
            "decided": float(data.get("decidedMs", 0)), "p2p share": float(data.get("p2pShare", 0))}  # fmt: skip


def baseline(browser: Browser, url: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    page.set_content(BASELINE_PAGE)
    page.evaluate("(url) => { document.getElementById('v').src = url }", url)
    first = float(page.evaluate(FIRST_FRAME, "#v"))
    context.close()
    return first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8, help="length of the recorded clip")
    parser.add_argument("--look", type=float, default=2, help="seconds a viewer looks at the video before play")
    parser.add_argument("--slow", type=float, default=150, help="kB/s the slow peer sends")
    args = parser.parse_args()
    misbehaving = {"sends nothing": (0, 0), "one block, then nothing": (1, 0), "slow": (-1, args.slow * 1000)}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        services = [start_relay(data, free_port()), start_tracker(data, free_port())]
        services.append(start_relay(data, free_port(), name="hostile-relay"))
        services.append(start_bridge(data, free_port(), relays=[services[0].url], trackers=[services[1].url]))
        services.append(start_blossom(data, free_port()))
        stack = Stack(services[0], services[2], services[1], services[3])
        looked = f"p2p, {args.look:g} s in view"
        rows: dict[str, list[float]] = {"p2p": [], looked: [], "http": [], "baseline": []}
        rows |= {"p2p complete": [], "http complete": []}
        rows |= {f"{case}{what}": [] for case in misbehaving for what in ("", " decided", " complete")}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
                for run in range(args.runs):
                    creator = AppUser.open(browser, stack.app_url)
                    clip = record_clip(
                        creator.page, NOISE, 640, 360, int(args.seconds * 1000), fps=30, bitrate=8_000_000
                    )
                    meta = post_alone(
                        creator, stack, services[-1], f"clip {run}", (f"clip{run}.webm", "video/webm", clip)
                    )
                    first_viewer = viewer(browser, stack.app_url)
                    p2p = watch(first_viewer[1], meta["i"])
                    looking_viewer = viewer(browser, stack.app_url)
                    ahead = watch(looking_viewer[1], meta["i"], args.look)
                    looking_viewer[0].close()
                    first_viewer[0].close()  # the creator alone seeds now
                    creator.page.evaluate(PEER)
                    for case, (budget, rate) in misbehaving.items():
                        creator.page.evaluate("([budget, rate]) => window.misbehave(budget, rate)", [budget, rate])
                        context, page = viewer(browser, stack.app_url)
                        got = watch(page, meta["i"])
                        context.close()
                        rows[case].append(float(got["first"]))
                        rows[f"{case} decided"].append(float(got["decided"]))
                        rows[f"{case} complete"].append(float(got["complete"]))
                        print(f"  {case}: first frame {got['first']:.0f} ms, {got['source']} ({got['reason']}) at "
                              f"{got['decided']:.0f} ms, P2P share {got['p2p share']:.0%}, complete "
                              f"{got['complete']:.0f} ms", flush=True)  # fmt: skip
                    creator.close()  # nobody seeds now
                    second_viewer = viewer(browser, stack.app_url)
                    http = watch(second_viewer[1], meta["i"])
                    second_viewer[0].close()
                    base = baseline(browser, meta["url"])
                    rows["p2p"].append(float(p2p["first"]))
                    rows[looked].append(float(ahead["first"]))
                    rows["p2p complete"].append(float(p2p["complete"]))
                    rows["http"].append(float(http["first"]))
                    rows["http complete"].append(float(http["complete"]))
                    rows["baseline"].append(base)
                    print(f"run {run + 1}: {len(clip) / 1e6:.1f} MB clip; first frame: P2P {p2p['first']:.0f} ms "
                          f"({p2p['source']}), after {args.look:g} s in view {ahead['first']:.0f} ms "
                          f"({ahead['source']}), HTTP {http['first']:.0f} ms ({http['source']}: {http['reason']}), "
                          f"plain <video> {base:.0f} ms", flush=True)  # fmt: skip
                browser.close()
        finally:
            stop_all(services)
    med = {name: statistics.median(values) for name, values in rows.items()}
    print("\nmedians (ms)")
    for name, value in med.items():
        print(f"  {name:<34}{value:8.0f}")
    base = med["baseline"]
    ratios = f"P2P {med['p2p'] / base:.2f}x ({med[looked] / base:.2f}x after {args.look:g} s in view)"
    ratios += f", HTTP {med['http'] / base:.2f}x"
    print(f"first frame against a plain <video> on the media server: {ratios}")
    http_first = med["http"]
    cases = ", ".join(
        f"{case} {med[case] / http_first:.2f}x (HTTP from {med[case + ' decided'] / 1000:.1f} s)"
        for case in misbehaving
    )
    print(f"first frame when the only peer misbehaves, against HTTP alone: {cases}")
    complete = ", ".join(f"{case} {med[case + ' complete'] / med['http complete']:.2f}x" for case in misbehaving)
    print(f"complete when the only peer misbehaves, against HTTP alone: {complete}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
