"""Two browser contexts move a file over WebRTC through the local WebSocket tracker (vendored webtorrent)."""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import Browser, Page

from asknostr import magnet as magnets
from bridge.torrent import build_info
from tests.e2e.harness import Stack

SIZE = 1024 * 1024 + 12_345  # not a whole number of pieces

LOAD_WEBTORRENT = """async () => {
  const { default: WebTorrent } = await import('/static/vendor/webtorrent.min.js')
  window.client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false })
}"""

SEED = """async ([tracker, size]) => {
  const data = new Uint8Array(size)
  for (let i = 0; i < size; i++) data[i] = (i * 7919 + (i >> 8)) % 251
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data))
  window.seedDigest = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('')
  return await new Promise((resolve) => window.client.seed(new File([data], 'sample.bin'), { announce: [tracker] },
    (t) => resolve(t.magnetURI)))
}"""

DOWNLOAD = """async (magnet) => new Promise((resolve, reject) => {
  const fail = () => reject(new Error(`no download in 60 s (${window.client.torrents[0]?.numPeers} peers)`))
  const timer = setTimeout(fail, 60000)
  window.client.add(magnet, (t) => t.on('done', async () => {
    clearTimeout(timer)
    const bytes = new Uint8Array(await t.files[0].arrayBuffer())
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
    resolve({ size: bytes.length, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
      wires: t.wires.map((w) => w.type) })
  }))
})"""


def _open(browser: Browser, stack: Stack) -> Page:
    page = browser.new_context().new_page()
    page.goto(stack.bridge.url + "/config.json")
    page.evaluate(LOAD_WEBTORRENT)
    return page


@pytest.mark.webrtc
def test_two_browsers_exchange_a_file_over_webrtc(browser: Browser, stack: Stack) -> None:
    seeder, leecher = _open(browser, stack), _open(browser, stack)
    try:
        magnet = seeder.evaluate(SEED, [stack.tracker.url, SIZE])
        assert magnet.startswith("magnet:?xt=urn:btih:")
        result = leecher.evaluate(DOWNLOAD, magnet)
        expected = bytes((i * 7919 + (i >> 8)) % 251 for i in range(SIZE))
        assert result["size"] == SIZE
        assert result["sha256"] == hashlib.sha256(expected).hexdigest() == seeder.evaluate("window.seedDigest")
        assert "webrtc" in result["wires"]
        # the Bridge computes the very infoHash the browser made, so it can join the same swarm
        assert magnets.parse(magnet).info_hash == build_info([expected], "sample.bin", SIZE).info_hash
    finally:
        seeder.context.close()
        leecher.context.close()
