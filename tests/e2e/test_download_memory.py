"""A large download over HTTP stays out of memory (issue 17): a 120 MB file fetched over HTTP adds far less than its
size to the browser's memory (the PSS of all its processes, read from /proc as bench/hash_speed.py does), and comes
out whole (sha256 of the finished file). The ranges go to disk (static/js/disk_store.js); before, HTTP held the body,
then copied it (+578-595 MB for 200 MB). A P2P download's memory is checked at 1 GB by tests/e2e/test_big_post.py."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Playwright

from bench.hash_speed import PeakMemory, browser_pss
from devstack.services import free_port, start_bridge
from tests.bridge.client import info_hash_of, ping_payload, upload
from tests.e2e.harness import CHROMIUM_FLAGS, Stack, chromium_path
from tests.unit.nostr_keys import keypair

pytestmark = pytest.mark.slow

SIZE = int(os.environ.get("MEM_TEST_MB", "120")) * 1000 * 1000 + 12345  # (MEM_TEST_MB: try another size)
SECRET, _PUBKEY = keypair(1717)
MOST_ADDED = 160_000_000  # well under the old code's 3 copies of the file; measured: a flat 75-80 MB at any size

SHA256 = """async (blob) => {
  const { createSHA256 } = await import('/static/vendor/hash-wasm.js')
  const hasher = await createSHA256()
  hasher.init()
  const reader = blob.stream().getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    hasher.update(value)
  }
  return hasher.digest('hex')
}"""


@pytest.fixture(scope="module")
def data() -> bytes:
    rng = random.Random(17)
    return b"".join(rng.randbytes(min(1 << 24, SIZE - at)) for at in range(0, SIZE, 1 << 24))


@pytest.fixture(scope="module")
def served(stack: Stack, data: bytes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The file on a media server: its url, and the infoHash its torrent has (which names it on disk)."""
    server = start_bridge(tmp_path_factory.mktemp("media"), free_port(), relays=[], trackers=[])
    try:
        url = upload(server.extra["media_url"], data, SECRET)
        payload = ping_payload(url, data, stack.tracker.url, "big.webm")
        yield {"url": url, "infoHash": info_hash_of(payload)}
    finally:
        server.stop()


@pytest.fixture
def page(playwright: Playwright, stack: Stack, tmp_path: Path) -> Iterator[Page]:
    # a profile on disk, as a person's browser has: an incognito context (browser.new_context) keeps its private
    # file system in memory
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=chromium_path(), args=CHROMIUM_FLAGS
    )
    page = context.new_page()
    page.goto(stack.bridge.url + "/config.json")
    page.evaluate("async () => { window.client = await import('/static/js/torrent_client.js') }")
    page.evaluate("async () => { window.http = await import('/static/js/http_download.js') }")
    try:
        yield page
    finally:
        context.close()


def measured(page: Page, script: str, arg: Any) -> tuple[str, int]:
    """The sha256 of the Blob `script` gives (the page's `window.got`), and the most memory the browser added while
    `script` ran."""
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 500))")
    before = browser_pss()
    with PeakMemory() as memory:
        page.evaluate(script, arg)
    # (hashed afterwards: the stream of a Blob read whole is the test's, not the download's)
    digest = str(page.evaluate(SHA256, page.evaluate_handle("() => window.got")))
    return digest, max(0, memory.peak - before)


def test_an_http_download_goes_to_disk_not_memory(page: Page, served: dict[str, str], data: bytes) -> None:
    digest, added = measured(page, """async ([url, key]) => {
      const source = http.download(url, 'video/webm', 1e12, null, key)
      await source.fetch(0, 64 * 1024) // the size, from the first answer
      await source.fetch(64 * 1024, source.size)
      window.got = await source.blob()
      window.stored = client.storedName(window.got)
    }""", [served["url"], served["infoHash"]])  # fmt: skip
    print(f"\nHTTP download of {SIZE / 1e6:.0f} MB: peak added memory {added / 1e6:.0f} MB")
    assert digest == hashlib.sha256(data).hexdigest()
    assert page.evaluate("() => window.stored") == served["infoHash"]
    assert added < MOST_ADDED
    page.evaluate("async (name) => { await client.removeStored(name) }", served["infoHash"])
