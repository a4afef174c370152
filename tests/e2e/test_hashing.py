"""Hashing a picked file in Chromium (static/js/hashing.js, its worker hash_worker.js): the SHA-256 of the whole
file and the SHA-1 of each torrent piece, read in slices with progress (the composer shows it); and seeding a file
hashed so reads none of it again, under the infoHash WebTorrent's own hashing gives."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libtorrent as lt
import pytest
from playwright.sync_api import Browser, FilePayload, Page

from asknostr import piece_length
from tests.e2e.harness import Stack, UserFactory, module_page

HELPERS = """
const input = document.createElement('input')
input.type = 'file'
input.id = 'picked'
document.body.append(input)
window.hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
// A file with its reads counted (slice, stream, arrayBuffer): what seeding reads of it.
window.counted = (file) => {
  file.reads = 0
  for (const name of ['slice', 'stream', 'arrayBuffer']) {
    const own = file[name].bind(file)
    file[name] = (...args) => { file.reads++; return own(...args) }
  }
  return file
}
"""


@pytest.fixture(scope="module")
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    with module_page(browser, stack, "/static/js/file_probe.js", "probe", HELPERS) as page:
        yield page


def test_a_64_mb_file_hashed_in_slices_gives_the_sha256_and_every_piece_sha1(page: Page, tmp_path: Path) -> None:
    data = os.urandom(64 * 1024 * 1024 + 12_345)  # the last piece a short one
    piece = piece_length.for_size(len(data))
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    page.set_input_files("#picked", str(path))
    result = page.evaluate(
        """async (piece) => {
          const progress = []
          const file = document.getElementById('picked').files[0]
          const got = await probe.hashes(file, piece, (done) => progress.push(done))
          const alone = await probe.sha256(file)
          return { sha256: got.sha256, pieces: hex(got.pieces), progress, alone }
        }""",
        piece,
    )
    assert result["sha256"] == result["alone"] == hashlib.sha256(data).hexdigest()
    want = [hashlib.sha1(data[at : at + piece]).hexdigest() for at in range(0, len(data), piece)]
    got = [result["pieces"][i : i + 40] for i in range(0, len(result["pieces"]), 40)]
    assert got == want
    progress = result["progress"]
    assert len(progress) > 2 and progress == sorted(progress) and progress[-1] == len(data)


def test_a_browser_without_byte_streams_reads_slices(page: Page, tmp_path: Path) -> None:
    data = os.urandom(20 * 1024 * 1024 + 99)
    piece = piece_length.for_size(len(data))
    path = tmp_path / "slices.bin"
    path.write_bytes(data)
    page.set_input_files("#picked", str(path))
    # the worker in a global whose Blob streams are unusable (as where they are not byte streams)
    result = page.evaluate(
        """async (piece) => new Promise((resolve, reject) => {
          const module = new URL('/static/js/hash_worker.js', location.href).href
          const code = `Blob.prototype.stream = () => { throw new TypeError('no byte streams') }
            await import('${module}'); postMessage({ ready: true })`
          const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }))
          const worker = new Worker(url, { type: 'module' })
          const progress = []
          worker.onerror = (e) => reject(new Error(e.message))
          worker.onmessage = ({ data }) => {
            if (data.ready) worker.postMessage({ file: document.getElementById('picked').files[0], pieceLength: piece })
            else if ('done' in data) progress.push(data.done)
            else resolve({ ...data, pieces: data.pieces && hex(data.pieces), progress })
          }
        })""",
        piece,
    )
    assert result["sha256"] == hashlib.sha256(data).hexdigest(), result.get("error")
    assert result["pieces"] == "".join(
        hashlib.sha1(data[at : at + piece]).hexdigest() for at in range(0, len(data), piece)
    )
    assert result["progress"] == sorted(result["progress"]) and result["progress"][-1] == len(data)


def test_an_empty_file_and_a_small_blob(page: Page) -> None:
    result = page.evaluate("""async () => ({
      empty: await probe.hashes(new Blob([]), 262144),
      small: await probe.sha256(new Blob([new TextEncoder().encode('abc')]))
    })""")
    assert result["empty"]["sha256"] == hashlib.sha256(b"").hexdigest()
    assert result["small"] == hashlib.sha256(b"abc").hexdigest()


def test_a_file_hashed_is_seeded_without_reading_it_under_webtorrents_infohash(
    browser: Browser, stack: Stack, tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 777)
    piece = piece_length.for_size(len(data))
    path = tmp_path / "clip.bin"
    path.write_bytes(data)
    with module_page(browser, stack, "/static/js/torrent_client.js", "torrents", HELPERS) as page:
        page.set_input_files("#picked", str(path))
        result = page.evaluate(
            """async ([piece, announce]) => {
              const probe = await import('/static/js/file_probe.js')
              const file = counted(document.getElementById('picked').files[0])
              await probe.hashes(file, piece)
              const before = file.reads
              const hashed = await torrents.seed(file, 'clip.bin', announce, piece)
              const hashedReads = file.reads - before
              await torrents.remove(hashed.infoHash)
              // another File of the same bytes, never hashed here: seeding hashes it first (in the worker)
              const own = await torrents.seed(new File([file], file.name), 'clip.bin', announce, piece)
              await file.slice(0, 1).arrayBuffer()
              const seen = file.reads - before // (the count sees a read: zero above is not blindness)
              return { hashed: hashed.infoHash, own: own.infoHash, hashedReads, seen }
            }""",
            [piece, [stack.tracker.url]],
        )
    # the infoHash WebTorrent's seed makes with the app's options (create-torrent's info dict, `private: 0` included)
    pieces = b"".join(hashlib.sha1(data[at : at + piece]).digest() for at in range(0, len(data), piece))
    info: Any = {b"length": len(data), b"name": b"clip.bin", b"piece length": piece, b"pieces": pieces, b"private": 0}
    assert result["hashed"] == result["own"] == hashlib.sha1(bytes(lt.bencode(info))).hexdigest()
    assert result["hashedReads"] == 0
    assert result["seen"] == 1


def test_the_composer_shows_how_much_of_a_file_is_hashed(new_user: UserFactory) -> None:
    ivy = new_user()
    ivy.show("feed")
    ivy.page.evaluate("""() => {
      window.lines = []
      const list = document.getElementById('composer-progress')
      new MutationObserver(() => { for (const li of list.children) window.lines.push(li.textContent) })
        .observe(list, { childList: true, subtree: true, characterData: true })
    }""")
    payload = FilePayload(name="long.bin", mimeType="application/octet-stream", buffer=os.urandom(20_000_000))
    ivy.page.set_input_files("#composer-files", files=[payload])
    ivy.submit("composer-result", {"#composer-text": "a long one"}, "#post-button", "published")
    lines: list[str] = ivy.page.evaluate("() => window.lines")
    hashing = [int(line.rsplit(" ", 1)[1].rstrip("%")) for line in lines if line.startswith("long.bin: hashing · ")]
    assert hashing == sorted(hashing) and hashing[-1] == 100
    assert any(0 < percent < 100 for percent in hashing), lines  # seen part-way, not only at the ends
