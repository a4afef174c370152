"""The app's WebTorrent piece stores (static/js/piece_store.js) in Chromium: what a peer or the player reads from
them is the file's bytes, whatever piece, range or order, and large downloads leave memory for Blobs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.harness import Stack, module_page

HELPERS = """
window.fill = (size) => {
  const b = new Uint8Array(size)
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 9)) % 253
  return b
}
const head = (buf, n) => Array.from(buf.subarray(0, n))
window.ask = (store, index, opts) => new Promise((resolve) => store.get(index, opts, (err, buf) =>
  resolve(err ? { error: err.message, notFound: !!err.notFound } : { bytes: head(buf, 4), length: buf.length })))
window.expect = (data, start, length) => ({ bytes: head(data.subarray(start), Math.min(4, length)), length })
"""


@pytest.fixture(scope="module")
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    with module_page(browser, stack, "/static/js/piece_store.js", "stores", HELPERS) as page:
        yield page


def test_file_pieces_are_slices_of_the_file_in_any_order(page: Page) -> None:
    results = page.evaluate("""async () => {
      const piece = 1000, data = fill(25_500), store = new stores.FilePieces(piece, { blob: new Blob([data]) })
      const out = []
      for (const [index, opts] of [[0, null], [1, null], [2, { offset: 10, length: 100 }], [25, null], [7, null],
                                   [3, { offset: 999, length: 1 }], [24, null], [26, null], [-1, null]]) {
        const start = index * piece + ((opts && opts.offset) || 0)
        const length = opts && opts.length ? opts.length : Math.min(piece, data.length - index * piece)
        const want = index >= 0 && index <= 25 ? expect(data, start, length) : null
        out.push({ got: await ask(store, index, opts), want })
      }
      store.put(0, new Uint8Array(piece), () => {}) // verified data of the same file: nothing to write
      out.push({ got: await ask(store, 0, null), want: expect(data, 0, piece) })
      await new Promise((resolve) => store.destroy(resolve))
      out.push({ got: await ask(store, 0, null), want: null })
      return out
    }""")
    for item in results:
        if item["want"] is None:
            assert "error" in item["got"], item
        else:
            assert item["got"] == item["want"], item
    assert results[-1]["got"]["error"] == "store closed"
    assert results[-3]["got"]["notFound"]  # piece 26 of a 26-piece file


def test_download_pieces_move_from_memory_to_blobs_and_end_as_one_blob(page: Page) -> None:
    result = page.evaluate("""async () => {
      const piece = 1024 * 1024, count = 40  // 40 MiB: more than the 32 MiB held in memory
      const store = new stores.DownloadPieces(piece)
      const missing = await ask(store, 0, null)
      const pieces = []
      for (let i = 0; i < count; i++) {
        const buf = fill(piece).map((b) => (b + i) % 256)
        pieces.push(buf.slice(0, 8))
        await new Promise((resolve, reject) => store.put(i, buf, (err) => err ? reject(err) : resolve()))
      }
      const blobs = store.chunks.filter((c) => c instanceof Blob).length
      const reads = []
      for (const [i, opts] of [[0, null], [0, { offset: 4, length: 4 }], [8, null], [39, { offset: 0, length: 8 }]]) {
        const got = await new Promise((resolve) => store.get(i, opts, (err, buf) =>
          resolve(err ? String(err) : Array.from(buf.subarray(0, 8)))))
        const offset = (opts && opts.offset) || 0, length = Math.min(8, (opts && opts.length) || 8)
        reads.push({ got, want: Array.from(pieces[i].subarray(offset, offset + length)) })
      }
      const hot = store.hotBytes
      const blob = store.toBlob('video/webm') // complete: one Blob, nothing left in memory, reads from it
      const after = await new Promise((resolve) => store.get(39, { offset: 0, length: 8 }, (err, buf) =>
        resolve(err ? String(err) : Array.from(buf))))
      return { missing, blobs, hot, reads, blob: [blob.size, blob.type, store.chunks.length],
               after, want: Array.from(pieces[39]) }
    }""")
    assert result["missing"]["notFound"]
    assert result["blobs"] == 8 and result["hot"] == 32 * 1024 * 1024  # the oldest 8 MiB left memory
    for read in result["reads"]:
        assert read["got"][: len(read["want"])] == read["want"], read
    assert result["blob"] == [40 * 1024 * 1024, "video/webm", 0]
    assert result["after"] == result["want"]
