"""The Bridge answers every browser: browsers that ask it for a file one after another, some of them leaving before
their connection opened, each get bytes from it over WebRTC (issue 15, part 3).

libtorrent answers a WebSocket tracker's forwarded offers for a torrent only up to `max_webtorrent_offers` between
two of its announces (and, for those still opening, up to the same number at once): at 2 the third browser within
the tracker's announce interval (2 min) got no answer and played over HTTP."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext
from playwright.sync_api import Error as PlaywrightError

from bridge.seeder import PEER_FINGERPRINT, REANNOUNCE_AFTER_OFFERS, Seeder
from tests.bridge.client import ping_payload, signed_post, upload
from tests.e2e.harness import Stack
from tests.unit.nostr_keys import keypair

SIZE = 1024 * 1024 + 7
SECRET = keypair(3015)[0]
VIEWERS = 6
LEAVERS_BEFORE = {0, 2}  # a context that joins and closes before its connection opens, before these viewers
AT_ONCE = 5  # a browser's offers go to 5 peers of the swarm at most: with more, some would not reach the Bridge
WAIT_MS = 15_000  # per viewer; the app's viewer falls back to HTTP after 5 s without a peer

# One browser asking for the torrent: resolves once a byte came from a peer whose id is the Bridge's, with the
# seconds from add() to the Bridge's wire and to that byte. Then it asks for nothing more and sends nothing (all
# its wires choked), and its connection to the Bridge stays open while the next browser asks, from the same
# address. `leave`: resolves as
# soon as the tracker answered the announce (the offers were forwarded by then); the page is closed right after.
ASK = """async ([magnet, fingerprint, waitMs, leave]) => {
  const { default: WebTorrent } = await import('/static/vendor/webtorrent.min.js')
  const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false })
  const bridgeId = [...fingerprint].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')
  const t0 = performance.now()
  const t = client.add(magnet)
  if (leave) return await new Promise((resolve) => t.once('trackerAnnounce', () => resolve({ left: true })))
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no byte from the Bridge in ${waitMs} ms: ` +
      `${t.numPeers} peers ${JSON.stringify(t.wires.map((w) => w.peerId))}`)), waitMs)
    let wired = null
    const check = () => {
      const wire = t.wires.find((w) => (w.peerId || '').startsWith(bridgeId))
      if (wire && wired === null) wired = performance.now() - t0
      if (wire && wire.downloaded > 0) {
        clearTimeout(timer)
        t._updateWire = () => {} // no more requests: it keeps the few pieces it has
        t._rechoke = () => {}
        const mute = (w) => { w.unchoke = () => {}; w.choke() } // (WebTorrent unchokes whoever is interested)
        t.wires.forEach(mute)
        t.on('wire', mute)
        resolve({ wired: wired / 1000, first: (performance.now() - t0) / 1000, type: wire.type })
      }
    }
    t.on('wire', (wire) => wire.once('handshake', check))
    t.on('download', check)
  })
}"""


def ask(browser: Browser, stack: Stack, magnet: str, *, leave: bool = False) -> tuple[BrowserContext, dict[str, Any]]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(stack.bridge.url + "/config.json")
        return context, dict(page.evaluate(ASK, [magnet, PEER_FINGERPRINT, WAIT_MS, leave]))
    except BaseException:
        context.close()
        raise


def seeded_by_the_bridge(stack: Stack, name: str) -> str:
    """A new file the Bridge seeds after a ping, alone; its magnet."""
    data = hashlib.sha256(name.encode()).digest() * (SIZE // 32) + b"x" * (SIZE % 32)
    payload = ping_payload(upload(stack.media_url, data, SECRET), data, stack.tracker.url, name)
    status, answer = signed_post(f"{stack.bridge.url}/api/ping", payload, SECRET)
    assert status == 200 and answer["state"] == "seeding", answer
    return payload["magnet"]


@pytest.mark.webrtc
def test_browsers_one_after_another_all_get_bytes_from_the_bridge(browser: Browser, stack: Stack) -> None:
    magnet = seeded_by_the_bridge(stack, "crowd.mp4")
    t0 = time.monotonic()
    got = []
    last: BrowserContext | None = None  # the browser before: still connected, from the same address
    try:
        for n in range(VIEWERS):
            if n in LEAVERS_BEFORE:
                ask(browser, stack, magnet, leave=True)[0].close()
            try:
                context, answer = ask(browser, stack, magnet)
            except PlaywrightError as exc:
                raise AssertionError(f"browser {n + 1} of {VIEWERS}: {exc.message}") from None
            got.append(answer)
            if last is not None:
                last.close()
            last = context
    finally:
        if last is not None:
            last.close()
    took = time.monotonic() - t0
    assert all(one["type"] == "webrtc" for one in got), got
    assert took < 60, took  # one after another within a minute, all within the Bridge's announce interval
    wired = ", ".join(f"{one['wired']:.2f}" for one in got)
    print(
        f"\n{VIEWERS} browsers (and {len(LEAVERS_BEFORE)} that left) in {took:.1f} s; the Bridge's wire after {wired} s"
    )


@pytest.mark.webrtc
def test_browsers_asking_at_once_all_get_bytes_from_the_bridge(browser: Browser, stack: Stack) -> None:
    magnet = seeded_by_the_bridge(stack, "burst.mp4")
    contexts = [browser.new_context() for _ in range(AT_ONCE)]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.goto(stack.bridge.url + "/config.json")
        for page in pages:  # each starts and returns at once: they ask together
            page.evaluate(
                f"(args) => {{ window.asked = ({ASK})(args).then((got) => got, (e) => ({{ error: String(e) }})) }}",
                [magnet, PEER_FINGERPRINT, WAIT_MS, False],
            )
        got = [dict(page.evaluate("() => window.asked")) for page in pages]
    finally:
        for context in contexts:
            context.close()
    assert all(one.get("type") == "webrtc" for one in got), got
    wired = ", ".join(f"{one['wired']:.2f}" for one in got)
    print(f"\n{AT_ONCE} browsers at once: the Bridge's wire after {wired} s")


@dataclass
class FakeHandle:
    hash: str
    reannounces: int = 0

    def info_hash(self) -> str:
        return self.hash

    def force_reannounce(self, *args: Any) -> None:
        self.reannounces += 1


@dataclass
class FakeLog:
    handle: FakeHandle
    line: str

    def log_message(self) -> str:
        return self.line


def test_the_seeder_announces_again_once_half_its_answers_are_used(tmp_path: Path) -> None:
    seeder, handle = Seeder(tmp_path), FakeHandle("ab" * 20)
    seeder.handles[handle.hash] = handle
    other = FakeHandle("cd" * 20)  # no longer seeded
    lines = ["*** RTC signaling processing remote offer", "*** RTC signaling rejected offer: connection limit reached"]
    for n in range(2 * REANNOUNCE_AFTER_OFFERS):
        seeder._count_offers(FakeLog(handle, lines[n % 2]))
        seeder._count_offers(FakeLog(handle, "*** RTC signaling generated answer"))  # not an offer taken
        seeder._count_offers(FakeLog(other, lines[0]))
    assert handle.reannounces == 2 and other.reannounces == 0
