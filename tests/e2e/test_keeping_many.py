"""A browser that keeps many files stays a good member of every swarm (static/js/torrent_client.js with the plan of
asknostr.seed_offers): a complete torrent makes no WebRTC offer of its own, so keeping hundreds costs no
RTCPeerConnection while idle and leaves the page's connections (Chromium allows 500) for the leechers who ask; a
leecher that was there before the seed is reached when the plan gives its torrent offers. bench/keep_many.py
measures 10, 100 and 1,000 kept files."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.harness import Stack, eventually
from tests.e2e.many_torrents import client_page, fetch_one, peer_connections, seed_many

KEPT = 300
IDLE_CONNECTIONS_MOST = 50


@pytest.fixture
def two_pages(browser: Browser, stack: Stack) -> Iterator[tuple[Page, Page]]:
    keeper, follower = browser.new_context(), browser.new_context()
    try:
        yield client_page(keeper, stack.bridge.url), client_page(follower, stack.bridge.url)
    finally:
        keeper.close()
        follower.close()


def test_a_browser_keeping_300_files_holds_few_connections_and_serves_any_of_them(
    two_pages: tuple[Page, Page], stack: Stack
) -> None:
    keeper, follower = two_pages
    keeper.evaluate(
        """() => {
          const parse = JSON.parse
          window.parses = 0
          JSON.parse = (...args) => { window.parses += 1; return parse(...args) }
        }"""
    )
    magnets = seed_many(keeper, KEPT, 1024, stack.tracker.url)
    # one tracker socket for all: each answer parsed once, not once by each torrent on it (45,000 times for 300)
    assert keeper.evaluate("window.parses") < 5 * KEPT
    time.sleep(3)  # every announce sent (they went out as each file was seeded) and answered
    idle = peer_connections(keeper)
    # with WebTorrent's 5 offers an announce: 500 open (Chromium's limit), 1,000 refused
    assert idle["refused"] == 0 and idle["open"] <= IDLE_CONNECTIONS_MOST, idle
    got = fetch_one(follower, random.choice(magnets), stack.tracker.url, timeout=30)
    assert got["seconds"] is not None and got["size"] == 1024, got  # before: nothing within 110 s
    assert peer_connections(keeper)["refused"] == 0


def test_a_seed_reaches_a_leecher_that_announced_before_it_when_the_plan_gives_it_offers(
    two_pages: tuple[Page, Page], stack: Stack
) -> None:
    keeper, follower = two_pages
    # the keeper had the file, and let it go (so its magnet is known): its swarm is empty
    magnet = keeper.evaluate(
        """async (tracker) => {
          window.earlyFile = new File([crypto.getRandomValues(new Uint8Array(20000))], 'early.bin')
          const seeded = await client.seed(earlyFile, 'early.bin', [tracker], 16384)
          await client.remove(seeded.infoHash)
          return seeded.magnetURI
        }""",
        stack.tracker.url,
    )
    follower.evaluate(
        "([magnet, tracker]) => { window.early = client.fetchFile(magnet, [tracker], 1e9).then((f) => f.blob.size) }",
        [magnet, stack.tracker.url],
    )
    time.sleep(1)  # the follower announced (a leecher, with offers the tracker had nobody to give)
    info_hash = keeper.evaluate(
        "async (tracker) => (await client.seed(earlyFile, 'early.bin', [tracker], 16384)).infoHash",
        stack.tracker.url,
    )
    # the keeper's announce made no offer; the tracker's answer counts the follower, who is not connected
    eventually(
        keeper,
        f"client.list().then((l) => l.some((t) => t.infoHash === '{info_hash}' && t.leechers === 1))",
        timeout_ms=10_000,
    )
    [kept] = [t for t in keeper.evaluate("client.list()") if t["infoHash"] == info_hash]
    assert kept["leechersConnected"] == 0 and peer_connections(keeper)["open"] == 0, kept
    keeper.evaluate(f"client.setOffers({{ '{info_hash}': 1 }})")  # as asknostr.seed_offers plans it
    # reached now, not at the follower's next announce (2 min)
    assert follower.evaluate("Promise.race([early, new Promise((r) => setTimeout(() => r(null), 15000))])") == 20000
