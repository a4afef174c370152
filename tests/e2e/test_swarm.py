"""The swarm orchestrator, in real browsers talking WebRTC: followers seed a creator's media by themselves, serve
it when the creator is gone, seed it again after a reload, ignore forged posts, and report to the Bridge."""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from asknostr import nip01
from tests.e2e.harness import AppUser, Stack, UserFactory, download_in_browser, eventually, relay_publish, relay_query
from tests.e2e.test_composer import LIST, bridge_state, post_files, published

# the downloads kept on disk (static/js/disk_store.js), by name: their infoHashes
DOWNLOADS_ON_DISK = """async () => {
  const downloads = await (await navigator.storage.getDirectory()).getDirectoryHandle('downloads', { create: true })
  const names = []
  for await (const name of downloads.keys()) names.push(name)
  return names
}"""


def seeds(user: AppUser, info_hash: str, timeout_ms: int = 30_000) -> dict[str, Any]:
    """Wait until `user`'s browser has the whole torrent and seeds it; its entry."""
    eventually(user.page, f"{LIST}.then((l) => l.some((t) => t.infoHash === '{info_hash}' && t.done))", timeout_ms)
    (entry,) = [t for t in user.page.evaluate(LIST) if t["infoHash"] == info_hash]
    return dict(entry)


@pytest.mark.webrtc
def test_followers_seed_by_themselves_and_serve_when_the_creator_is_gone(
    new_user: UserFactory, browser: Browser, stack: Stack
) -> None:
    alice, bob = new_user(), new_user()
    logs: list[str] = []
    for who, user in (("alice", alice), ("bob", bob)):

        def record(message: ConsoleMessage, who: str = who) -> None:
            logs.append(f"{who} {message.type}: {message.text}")

        user.page.on("console", record)
    bob.add_relay(stack.hostile_relay.url)  # where a forger serves a fake copy of Alice's post
    bob.follow(alice.npub)

    # the Bridge never hears of this one (the app tries a failed ping again: refused every time)
    alice.page.route(
        "**/api/ping",
        lambda route: route.abort() if "auto.bin" in (route.request.post_data or "") else route.continue_(),
    )
    data = os.urandom(300_000)
    t0 = time.monotonic()
    post_files(alice, "for my followers", [("auto.bin", "application/octet-stream", data)])
    (note,) = [e for e in published(stack, alice.pubkey) if e["kind"] == 1]
    meta = note["imeta"][0]
    seeds(bob, meta["i"])  # no click: Bob's browser joined by itself
    joined_in = time.monotonic() - t0
    bob.show("feed")
    dot = bob.page.locator(f'.post[data-infohashes~="{meta["i"]}"] .seeding')
    dot.wait_for(timeout=10_000)
    assert dot.inner_text().startswith("Seeding for ")

    # a forged copy of Alice's post (another magnet, her key, no valid signature) is not joined
    (original,) = relay_query(stack.relay.url, {"authors": [alice.pubkey], "kinds": [1]})
    forged_hash = "fe" * 20
    forged = json.loads(json.dumps(original).replace(meta["i"], forged_hash))
    forged["id"] = nip01.event_id(forged["pubkey"], forged["created_at"], 1, forged["tags"], forged["content"])
    assert relay_publish(stack.hostile_relay.url, forged)[0]

    # heartbeats: a second post, this time pinged, is reported to the Bridge by both browsers
    post_files(alice, "pinged", [("pinged.bin", "application/octet-stream", os.urandom(40_000))])
    second = [e for e in published(stack, alice.pubkey) if e["kind"] == 1 and e["imeta"][0]["i"] != meta["i"]]
    pinged = second[0]["imeta"][0]["i"]
    assert bridge_state(stack, pinged, user=alice) == "seeding"
    seeds(bob, pinged)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{stack.bridge.url}/api/torrents/{pinged}") as response:
            status = json.loads(response.read())
        if status["seeders"]["heartbeat_keys"] >= 2:
            break
        bob.page.wait_for_timeout(500)  # not time.sleep: the pages' requests pass through this process's routes
    assert status["seeders"]["heartbeat_keys"] == 2, logs[-20:]  # Alice and Bob, one vote each
    assert status["seeders"]["claimed_median"] >= 1  # what each saw: itself, and the peers it is connected to
    # which kept files offer to leechers is planned on the orchestrator's interval (asknostr.seed_offers)
    bob.page.wait_for_function("document.body.dataset.offering !== undefined", timeout=20_000)
    assert not [line for line in logs if "offers not planned" in line], logs

    alice.close()  # the creator is gone; the Bridge never had the first file: only Bob can serve it
    print("BEFORE", bob.page.evaluate(LIST), bob.page.evaluate("document.body.dataset.offering"))
    got = download_in_browser(browser, stack.bridge.url, meta["magnet"])
    print("AFTER", got, bob.page.evaluate(LIST), bob.page.evaluate("document.body.dataset.offering"))
    assert got["peers"] == ["webrtc"]
    assert got["sha256"] == hashlib.sha256(data).hexdigest()
    assert forged_hash not in {t["infoHash"] for t in bob.page.evaluate(LIST)}
    assert int(bob.page.inner_text("#dropped-count")) >= 1

    bob.page.reload()  # seeded again from IndexedDB: no piece fetched
    bob.wait_ready()
    bob.page.wait_for_function("Number(document.body.dataset.resumed) >= 2", timeout=20_000)
    entry = seeds(bob, meta["i"], timeout_ms=5_000)
    assert entry["received"] < 16_384
    print(f"\nBob had the whole file and seeded it {joined_in:.1f} s after Alice pressed Post (upload included)")


@pytest.mark.webrtc
def test_the_quota_prunes_the_least_relevant_and_spares_favourites(new_user: UserFactory, stack: Stack) -> None:
    alice, carol, bob = new_user(), new_user(), new_user()
    logs: list[str] = []
    bob.page.on("console", lambda message: logs.append(message.text))
    bob.show("settings")
    bob.submit("storage-result", {"#quota-input": "10", "#cap-input": "5"}, "#storage-save", "saved")
    bob.follow(alice.npub)
    bob.follow(carol.npub)
    size = 4_000_000

    def post(user: AppUser, text: str) -> str:
        post_files(user, text, [(f"{text}.bin", "application/octet-stream", os.urandom(size))])
        notes = [e for e in published(stack, user.pubkey) if e["kind"] == 1]
        (note,) = [e for e in notes if any(f"{text}.bin" in m.get("magnet", "") for m in e["imeta"])]
        info_hash = str(note["imeta"][0]["i"])
        seeds(bob, info_hash, timeout_ms=60_000)
        return info_hash

    carols = post(carol, "carol1")
    bob.show("feed")
    bob.page.click(f'.post[data-author="{carol.pubkey}"] .star')  # Carol becomes a favourite
    bob.page.locator(f'.post[data-author="{carol.pubkey}"] .star[aria-pressed="true"]').first.wait_for()
    first = post(alice, "alice1")
    second = post(alice, "alice2")  # 12 MB would not fit in 10: the least relevant goes

    def kept() -> set[str]:
        index = bob.page.evaluate("import('/static/vendor/idb-keyval.js').then((m) => m.get('seeds'))")
        return set(json.loads(index))

    deadline = time.monotonic() + 15
    while kept() != {carols, second} and time.monotonic() < deadline:
        bob.page.wait_for_timeout(300)
    assert kept() == {carols, second}, (carols, first, second, logs)  # the favourite's stayed
    assert first not in {t["infoHash"] for t in bob.page.evaluate(LIST)}  # and it is no longer seeded
    # the files kept are on disk, in the browser's private file system, and the one let go is deleted from it
    deadline = time.monotonic() + 15
    while set(bob.page.evaluate(DOWNLOADS_ON_DISK)) != {carols, second} and time.monotonic() < deadline:
        bob.page.wait_for_timeout(300)
    assert set(bob.page.evaluate(DOWNLOADS_ON_DISK)) == {carols, second}
