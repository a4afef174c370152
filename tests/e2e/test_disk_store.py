"""Downloads kept on disk (static/js/disk_store.js) in Chromium: WebTorrent's chunk store and HTTP's ranges write one
file of the origin's private file system, reads give the bytes back, the finished file is the disk's File (its
bytes, its size), and a torrent given up deletes a file never finished."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.harness import Stack, module_page

HELPERS = """
window.fill = (size, salt = 0) => {
  const b = new Uint8Array(size)
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 9) + salt) % 253
  return b
}
window.cb = (f) => new Promise((resolve, reject) => f((err, value) => err ? reject(err) : resolve(value)))
window.onDisk = async () => {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('downloads', { create: true })
  const names = []
  for await (const name of dir.keys()) names.push(name)
  return names.sort()
}
"""


@pytest.fixture(scope="module")
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    with module_page(browser, stack, "/static/js/disk_store.js", "disk", HELPERS) as page:
        yield page


def test_pieces_and_ranges_go_to_one_file_on_disk_which_becomes_the_finished_file(page: Page) -> None:
    result = page.evaluate("""async () => {
      const piece = 16384, size = 10 * piece + 1000, data = fill(size)
      const store = new disk.DiskPieces(piece, { torrent: { infoHash: 'aa'.repeat(20) }, length: size })
      const missing = await cb((done) => store.get(0, done)).catch((err) => err.notFound)
      for (const i of [0, 2, 4, 6, 8, 10]) { // P2P's pieces, the last one short
        await cb((done) => store.put(i, data.subarray(i * piece, Math.min(size, (i + 1) * piece)), done))
      }
      const http = disk.diskFile('aa'.repeat(20), size) // HTTP writes the pieces between, into the same file
      for (const i of [1, 3, 5, 7, 9]) await http.write(i * piece, data.subarray(i * piece, (i + 1) * piece))
      const ranged = await cb((done) => store.get(10, { offset: 10, length: 20 }, done))
      const httpRead = await http.read(piece - 5, 10)
      const before = await onDisk()
      const file = await store.toFile('video/webm')
      const whole = new Uint8Array(await file.arrayBuffer())
      let same = whole.length === size
      for (let i = 0; same && i < size; i++) same = whole[i] === data[i]
      await cb((done) => store.destroy(done)) // finished: the app's, not deleted with the torrent
      const after = await onDisk()
      const again = await disk.storedFile('aa'.repeat(20), 'video/webm')
      const name = disk.storedName(file)
      await disk.remove(name)
      return { missing, ranged: Array.from(ranged), want: Array.from(data.subarray(10 * piece + 10, 10 * piece + 30)),
               httpRead: Array.from(httpRead), httpWant: Array.from(data.subarray(piece - 5, piece + 5)),
               before, same, type: file.type, after, again: again && [again.size, again.type], name,
               gone: await onDisk(), missingAfter: await disk.storedFile(name) }
    }""")
    assert result["missing"] is True
    assert result["ranged"] == result["want"]
    assert result["httpRead"] == result["httpWant"]
    assert result["before"] == ["aa" * 20]
    assert result["same"] and result["type"] == "video/webm"
    assert result["after"] == ["aa" * 20]
    assert result["again"] == [10 * 16384 + 1000, "video/webm"]
    assert result["name"] == "aa" * 20
    assert result["gone"] == [] and result["missingAfter"] is None


def test_an_unfinished_download_goes_with_its_torrent_and_the_sweep_keeps_only_what_is_named(page: Page) -> None:
    result = page.evaluate("""async () => {
      const store = new disk.DiskPieces(1024, { torrent: { infoHash: 'bb'.repeat(20) }, length: 4096 })
      await cb((done) => store.put(0, fill(1024), done))
      const during = await onDisk()
      await cb((done) => store.destroy(done))
      const after = await onDisk()
      const kept = disk.diskFile('cc'.repeat(20), 10)
      await kept.write(0, fill(10))
      await kept.finish()
      // left by an earlier page (a tab closed mid-download): not this page's
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('downloads')
      const writable = await (await dir.getFileHandle('dd'.repeat(20), { create: true })).createWritable()
      await writable.write(fill(10))
      await writable.close()
      const swept = await disk.sweep(['cc'.repeat(20)])
      const left = await onDisk()
      await disk.remove('cc'.repeat(20))
      return { during, after, swept, left }
    }""")
    assert result["during"] == ["bb" * 20]
    assert result["after"] == []
    assert result["swept"] == ["dd" * 20]
    assert result["left"] == ["cc" * 20]
