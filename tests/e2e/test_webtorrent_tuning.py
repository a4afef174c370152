"""The app's changes to WebTorrent's work per block (static/js/webtorrent_tuning.js) in Chromium: what a wire writes
in one task leaves as one buffer with the bytes bittorrent-protocol would send as several, blocks go three to a 64 KiB
message and keep their bytes across the shared slab, and a torrent keeps one update pass pending however often it
asks. (That a real wire sends its blocks that way is checked by the viewer's P2P test.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.harness import Stack, module_page


@pytest.fixture(scope="module")
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    with module_page(browser, stack, "/static/js/webtorrent_tuning.js", "tuning") as page:
        yield page


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


def test_what_a_wire_writes_in_one_task_leaves_as_one_buffer_of_the_same_bytes(page: Page) -> None:
    got = page.evaluate(
        """async (fake) => {
      const make = (0, eval)(fake)
      const block = Uint8Array.from({ length: 16384 }, (_, i) => (i * 7) % 251)
      const plain = make(), tuned = make()
      const applied = tuning.batchedMessages(tuned)
      for (const wire of [plain, tuned]) {
        wire._message(7, [3, 0x01020304], block) // piece 3 at that offset
        wire._message(6, [1, 2, 16384]) // a request: no payload
        wire._push(new Uint8Array([0, 0, 0, 1, 2])) // unchoke, as the library pushes it
        wire._message(20, [], new Uint8Array([0, 100, 101])) // an extended message
      }
      const inTask = tuned.pushed.length // nothing yet: it goes when the task ends
      await null
      const bytes = (wire) => Array.from(wire.pushed.flatMap((b) => Array.from(b)))
      return { applied, inTask, plain: plain.pushed.map((b) => b.length), tuned: tuned.pushed.map((b) => b.length),
               same: JSON.stringify(bytes(plain)) === JSON.stringify(bytes(tuned)) }
    }""",
        FAKE_WIRE,
    )
    assert got["applied"] and got["inTask"] == 0
    assert got["plain"] == [13, 16384, 17, 5, 5, 3]  # what WebTorrent would send: six data-channel messages
    assert got["tuned"] == [16384 + 13 + 17 + 5 + 8]  # one
    assert got["same"]  # the same bytes on the wire


def test_blocks_go_three_to_a_message_each_whole_and_intact(page: Page) -> None:
    got = page.evaluate(
        """async (fake) => {
      const wire = (0, eval)(fake)()
      tuning.batchedMessages(wire)
      for (let n = 0; n < 300; n++) wire._message(7, [n, 0], new Uint8Array(16384).fill(n % 256)) // ~5 MiB: 5 slabs
      wire._message(20, [], new Uint8Array(3 << 20).fill(9)) // larger than a message: apart
      await null
      wire._message(4, [7]) // a later task: a message of its own
      await new Promise((resolve) => setTimeout(resolve, 0))
      wire._message(4, [8])
      wire._finished = true // the remote end is gone before the task ends: nothing is sent
      await null
      const bad = []
      wire.pushed.slice(0, 100).forEach((message, m) => {
        if (message.length !== 3 * 16397) bad.push(`message ${m}: ${message.length} bytes`)
        for (let k = 0; k < 3; k++) {
          const block = message.subarray(k * 16397, (k + 1) * 16397), n = 3 * m + k
          if (block[8] !== n % 256 || block[4] !== 7 || !block.subarray(13).every((x) => x === n % 256)) bad.push(n)
        }
      })
      const big = wire.pushed[100]
      return { bad, rest: wire.pushed.slice(100).map((b) => [b.length, b[4], b[5]]),
               prefix: new DataView(big.buffer, big.byteOffset).getUint32(0) }
    }""",
        FAKE_WIRE,
    )
    assert got["bad"] == []
    # larger than a data-channel message may be: its header, then its payload, as the library sends them
    assert got["rest"] == [[5, 20, None], [3 << 20, 9, 9], [9, 4, 0]]
    assert got["prefix"] == (3 << 20) + 1  # the length prefix counts the payload sent apart


def test_a_wire_of_another_shape_is_left_as_it_is(page: Page) -> None:
    assert page.evaluate("() => tuning.batchedMessages({ _message: (id) => id, _push () {} })") is False
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


# Two browsers ("aa" and "bb") that announced at the same moment: each has the connection it heard of first and is
# handed the other one. Each side of a pair must keep the same connection: the one "aa" (the smaller id) offered.
GLARE = """([local, firstOfferedBy, connected]) => {
  const remote = local === 'aa' ? 'bb' : 'aa'
  const conn = (offeredBy) => ({ id: remote, initiator: offeredBy === local, offeredBy })
  const there = { conn: conn(firstOfferedBy), connected }
  const torrent = {
    client: { peerId: local },
    _peers: new Map([[remote, there]]),
    removed: [],
    removePeer (peer) { this.removed.push(peer.conn.offeredBy); this._peers.delete(remote) },
    _addPeer (peer) { // WebTorrent's: a duplicate is dropped
      if (this._peers.has(peer.id)) return null
      this._peers.set(peer.id, { conn: peer, connected: false })
      return peer
    }
  }
  tuning.oneConnectionPerPair(torrent)
  torrent._addPeer(conn(firstOfferedBy === 'aa' ? 'bb' : 'aa'), 'tcp')
  return { kept: torrent._peers.get(remote).conn.offeredBy, removed: torrent.removed }
}"""


@pytest.mark.parametrize("local", ["aa", "bb"])
@pytest.mark.parametrize("first", ["aa", "bb"])
def test_two_browsers_announcing_at_once_keep_the_same_connection(page: Page, local: str, first: str) -> None:
    got = page.evaluate(GLARE, [local, first, False])
    assert got["kept"] == "aa"  # whichever came first, on either side
    assert got["removed"] == ([] if first == "aa" else ["bb"])


def test_a_connection_already_up_is_kept(page: Page) -> None:
    assert page.evaluate(GLARE, ["aa", "bb", True]) == {"kept": "bb", "removed": []}  # WebTorrent's own rule
