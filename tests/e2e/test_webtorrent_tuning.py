"""The app's changes to WebTorrent's work per block (static/js/webtorrent_tuning.js) in Chromium: a BitTorrent
message leaves as one buffer with the same bytes bittorrent-protocol would send in two, messages cut from the shared
slab keep their bytes, and a torrent keeps one update pass pending however often it asks. (That a real wire sends
each block in one data-channel message is checked by the viewer's P2P test.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.harness import Stack


@pytest.fixture(scope="module")
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    page = browser.new_context().new_page()
    page.goto(stack.bridge.url + "/config.json")  # an empty page of the app's origin
    page.evaluate("async () => { window.tuning = await import('/static/js/webtorrent_tuning.js') }")
    yield page
    page.context.close()


# A stand-in for bittorrent-protocol's Wire: its _message as the library writes it (header, then payload, as two
# pushes), and the buffers it pushes.
FAKE_WIRE = """() => {
  const wire = { pushed: [], _push (buffer) { this.pushed.push(buffer) } }
  wire._message = function (id, numbers, data) {
    const buffer = new Uint8Array(5 + 4 * numbers.length)
    const view = new DataView(buffer.buffer)
    view.setUint32(0, buffer.length + (data ? data.length : 0) - 4)
    buffer[4] = id
    numbers.forEach((n, i) => view.setUint32(5 + 4 * i, n))
    this._push(buffer)
    if (data) this._push(data)
  }
  return wire
}"""


def test_a_message_with_a_payload_is_one_buffer_of_the_same_bytes(page: Page) -> None:
    got = page.evaluate(
        """(fake) => {
      const make = (0, eval)(fake)
      const block = Uint8Array.from({ length: 16384 }, (_, i) => (i * 7) % 251)
      const plain = make(), tuned = make()
      const applied = tuning.oneMessageEach(tuned)
      for (const wire of [plain, tuned]) {
        wire._message(7, [3, 0x01020304], block) // piece 3 at that offset
        wire._message(6, [1, 2, 16384]) // a request: no payload
        wire._message(20, [], new Uint8Array([0, 100, 101])) // an extended message
      }
      const bytes = (wire) => Array.from(wire.pushed.flatMap((b) => Array.from(b)))
      return { applied, plain: plain.pushed.map((b) => b.length), tuned: tuned.pushed.map((b) => b.length),
               same: JSON.stringify(bytes(plain)) === JSON.stringify(bytes(tuned)) }
    }""",
        FAKE_WIRE,
    )
    assert got["applied"]
    assert got["plain"] == [13, 16384, 17, 5, 3]  # what WebTorrent would send: five data-channel messages
    assert got["tuned"] == [16397, 17, 8]  # one per BitTorrent message
    assert got["same"]  # the same bytes on the wire


def test_messages_cut_from_the_slab_keep_their_bytes(page: Page) -> None:
    bad = page.evaluate(
        """(fake) => {
      const wire = (0, eval)(fake)()
      tuning.oneMessageEach(wire)
      for (let n = 0; n < 300; n++) wire._message(7, [n, 0], new Uint8Array(16384).fill(n % 256)) // ~5 MiB: 5 slabs
      wire._message(20, [], new Uint8Array(3 << 20).fill(9)) // larger than a slab
      return wire.pushed.slice(0, 300).map((b, n) => b.length === 16397 && b[5 + 3] === n % 256 &&
        b.subarray(13).every((x) => x === n % 256) ? null : n).filter((n) => n !== null)
        .concat(wire.pushed[300].length === (3 << 20) + 5 && wire.pushed[300][5] === 9 ? [] : ['large'])
    }""",
        FAKE_WIRE,
    )
    assert bad == []


def test_a_wire_of_another_shape_is_left_as_it_is(page: Page) -> None:
    assert page.evaluate("() => tuning.oneMessageEach({ _message: (id) => id, _push () {} })") is False
    assert page.evaluate("() => tuning.oneUpdateAtATime({ _update () {} })") is False


def test_a_torrent_keeps_one_update_pass_pending(page: Page) -> None:
    passes = page.evaluate("""async () => {
      const torrent = { passes: 0, _update () { throw new Error('replaced') }, _updateWireWrapper () { this.passes++ } }
      tuning.oneUpdateAtATime(torrent)
      const settle = () => new Promise((resolve) => setTimeout(resolve, 400)) // past the idle callback's 250 ms
      for (let i = 0; i < 100; i++) torrent._update() // a hundred blocks in one task
      await settle()
      const first = torrent.passes
      torrent._update() // asked again once the pass has run: another pass
      await settle()
      return [first, torrent.passes]
    }""")
    assert passes == [1, 2]
