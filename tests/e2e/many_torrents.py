"""A browser that keeps many torrents, through the app's own torrent client (static/js/torrent_client.js): its
pages, the files it seeds, and what it holds of RTCPeerConnections. For tests/e2e/test_keeping_many.py and
bench/keep_many.py."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page

# Counts the page's RTCPeerConnections: made, still open (not closed by the page nor failed), refused (Chromium's
# per-page limit, "Cannot create so many PeerConnections"). An init script: it runs before the vendored bundle
# takes the constructor.
PEER_CONNECTION_COUNTER = """(() => {
  const Native = window.RTCPeerConnection
  const counts = { made: 0, refused: 0, open: new Set() }
  window.peerConnections = () => ({ made: counts.made, refused: counts.refused, open: counts.open.size })
  window.RTCPeerConnection = class extends Native {
    constructor (...args) {
      try { super(...args) } catch (err) { counts.refused += 1; throw err }
      counts.made += 1
      counts.open.add(this)
      const gone = () => counts.open.delete(this)
      this.addEventListener('connectionstatechange', () => {
        if (['closed', 'failed'].includes(this.connectionState)) gone()
      })
      const close = this.close.bind(this)
      this.close = () => { gone(); close() }
    }
  }
})()"""

# Seeds `count` files of `size` random bytes (each different), `parallel` at a time; their magnets, in order.
SEED_MANY = """async ([count, size, announce, parallel]) => {
  const magnets = new Array(count)
  let next = 0
  const one = async () => {
    while (next < count) {
      const n = next++
      const bytes = crypto.getRandomValues(new Uint8Array(size))
      const file = new File([bytes], `kept-${n}.bin`, { type: 'application/octet-stream' })
      magnets[n] = (await client.seed(file, file.name, announce, 16384)).magnetURI
    }
  }
  await Promise.all(Array.from({ length: parallel }, one))
  return magnets
}"""

# Downloads one torrent: seconds from the call to its file, and its size; seconds null after `timeout` s.
FETCH_ONE = """async ([magnet, announce, timeout]) => {
  const t0 = performance.now()
  const late = new Promise((resolve) => setTimeout(() => resolve(null), timeout * 1000))
  const got = await Promise.race([client.fetchFile(magnet, announce, 1 << 30), late])
  return { seconds: got && (performance.now() - t0) / 1000, size: got ? got.blob.size : 0 }
}"""


def client_page(context: BrowserContext, origin: str) -> Page:
    """A page of the app's origin with the app's torrent client as `window.client`, its peer connections counted."""
    context.add_init_script(PEER_CONNECTION_COUNTER)
    page = context.new_page()
    page.goto(origin + "/config.json")
    page.evaluate("async () => { window.client = await import('/static/js/torrent_client.js') }")
    return page


def seed_many(page: Page, count: int, size: int, tracker: str, parallel: int = 8) -> list[str]:
    magnets: list[str] = page.evaluate(SEED_MANY, [count, size, [tracker], parallel])
    return magnets


def peer_connections(page: Page) -> dict[str, int]:
    counts: dict[str, int] = page.evaluate("window.peerConnections()")
    return counts


def fetch_one(page: Page, magnet: str, tracker: str, timeout: float) -> dict[str, Any]:
    """The download of `magnet`: {"seconds", "size"}, seconds None when it did not finish within `timeout`."""
    got: dict[str, Any] = page.evaluate(FETCH_ONE, [magnet, [tracker], timeout])
    return got
