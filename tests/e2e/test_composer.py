"""The composer, against real services: a real Blossom server as the user's media server (not the Bridge), the
Bridge as the fallback, WebTorrent seeding in the browser, the bootstrap ping, and the published events read back
from the relay by an independent parser (nostr-tools in Node)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import struct
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload

from devstack.blossom import start_blossom
from devstack.nip96 import start_nip96
from devstack.services import ROOT, Service, free_port
from tests.e2e.harness import AppUser, Stack, UserFactory, download_in_browser, eventually, relay_query


def png(width: int, height: int, seed: int) -> bytes:
    """A real PNG of noise (so the browser can read its dimensions)."""
    rows = b"".join(b"\x00" + bytes((x * 7 + y * 13 + seed) % 256 for x in range(width * 3)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def blossom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = start_blossom(tmp_path_factory.mktemp("blossom"), free_port())
    yield service
    service.stop()


@pytest.fixture(scope="module")
def broken_blossom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = start_blossom(tmp_path_factory.mktemp("broken"), free_port(), fail_uploads=500)
    yield service
    service.stop()


@pytest.fixture(scope="module")
def nip96(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = start_nip96(tmp_path_factory.mktemp("nip96"), free_port())
    yield service
    service.stop()


@pytest.fixture(scope="module")
def transforming_nip96(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = start_nip96(tmp_path_factory.mktemp("nip96t"), free_port(), transform=True)
    yield service
    service.stop()


def add_server(user: AppUser, url: str, protocol: str = "blossom") -> str:
    user.show("settings")
    user.page.select_option("#server-protocol", protocol)
    return user.submit("server-result", {"#server-input": url}, "#server-add", "saved")


def post_files(user: AppUser, text: str, files: list[tuple[str, str, bytes]], *, community: bool = False) -> str:
    prefix = "community-" if community else ""
    user.show("community" if community else "feed")
    payloads = [FilePayload(name=name, mimeType=mime, buffer=data) for name, mime, data in files]
    user.page.set_input_files(f"#{prefix}composer-files", files=payloads)
    return user.submit(
        f"{prefix}composer-result", {f"#{prefix}composer-text": text}, f"#{prefix}post-button", "published"
    )


def published(stack: Stack, author: str) -> list[dict[str, Any]]:
    """The author's notes and file events on the relay, read by nostr-tools."""
    events = relay_query(stack.relay.url, {"authors": [author], "kinds": [1, 1063]})
    out = subprocess.run(
        ["node", str(ROOT / "tests" / "e2e" / "parse_media_events.mjs")],
        input=json.dumps(events).encode(),
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    parsed: list[dict[str, Any]] = json.loads(out.stdout)
    return parsed


QUEUED = "import('/static/vendor/idb-keyval.js').then((m) => m.get('bridge-pings'))"
LIST = "import('/static/js/torrent_client.js').then((m) => m.list())"  # what the page seeds or downloads


def bridge_state(
    stack: Stack, info_hash: str, timeout: float = 30, user: AppUser | None = None, media: Service | None = None
) -> str:
    """The Bridge's state for a torrent, waiting for `user`'s ping to arrive (on failure: the Bridge's log, the
    user's queued pings and the media server's log, to tell where a ping stopped).

    The wait goes through the user's page: the harness routes its requests through this process, so a ping sent
    while the test slept would wait for the test's next call into Playwright (`time.sleep` held them 30 s)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{stack.bridge.url}/api/torrents/{info_hash}") as response:
                return str(json.loads(response.read())["state"])
        except urllib.error.HTTPError as exc:
            if time.monotonic() > deadline:
                stack.bridge.process.send_signal(signal.SIGUSR1)  # its threads' stacks into its log
                stack.bridge.process.send_signal(signal.SIGUSR2)  # and its asyncio tasks'
                time.sleep(1)
                log = Path(stack.bridge.log_path).read_text()[-12000:]
                queue = user.page.evaluate(QUEUED) if user else "?"
                media_log = Path(media.log_path).read_text()[-3000:] if media else ""
                raise AssertionError(
                    f"the Bridge does not know {info_hash} ({exc}); pings queued: {queue}; its log ends:\n{log}"
                    f"\nthe media server's log ends:\n{media_log}"
                ) from None
            if user is not None:
                user.page.wait_for_timeout(300)
            else:
                time.sleep(0.3)


def log_lines(service: Service, start: str) -> list[str]:
    return [line for line in Path(service.log_path).read_text().splitlines() if line.startswith(start)]


def test_media_goes_to_the_preferred_server_the_bridge_is_only_pinged(
    new_user: UserFactory, stack: Stack, blossom: Service
) -> None:
    alice = new_user()
    assert "published" in add_server(alice, blossom.url)
    image, audio = png(64, 48, 1), os.urandom(150_000)
    report = post_files(alice, "two files", [("noise.png", "image/png", image), ("tone.mp3", "audio/mpeg", audio)])
    assert "published to 1/1 relays" in report
    lines = alice.page.locator("#composer-progress li").all_inner_texts()
    assert lines == [f"noise.png: stored on {blossom.url[7:]}", f"tone.mp3: stored on {blossom.url[7:]}"]
    assert len(log_lines(blossom, "PUT /upload 201")) >= 2

    events = published(stack, alice.pubkey)
    assert all(e["valid"] for e in events)
    (note,) = [e for e in events if e["kind"] == 1]
    files = {e["file"]["x"]: e for e in events if e["kind"] == 1063}
    assert set(note["mentions"]) == {e["id"] for e in files.values()}
    by_sha = {m["x"]: m for m in note["imeta"]}
    for data, mime in ((image, "image/png"), (audio, "audio/mpeg")):
        sha = hashlib.sha256(data).hexdigest()
        meta, file = by_sha[sha], files[sha]["file"]
        assert meta["url"].startswith(blossom.url + "/" + sha) and meta["m"] == mime and meta["size"] == str(len(data))
        assert (
            len(meta["i"]) == 40
            and meta["i"] in meta["magnet"]
            and stack.tracker.url in urllib.parse.unquote(meta["magnet"])
        )
        assert (
            file["url"] == meta["url"]
            and file["ox"] == sha
            and file["i"] == meta["i"]
            and file["magnet"] == meta["magnet"]
        )
        # the Bridge was pinged, fetched it and seeds it
        assert bridge_state(stack, meta["i"], user=alice, media=blossom) == "seeding"
        with urllib.request.urlopen(meta["url"]) as response:
            assert response.read() == data
    assert by_sha[hashlib.sha256(image).hexdigest()]["dim"] == "64x48"
    assert note["hashtags"] == []
    server_lists = relay_query(stack.relay.url, {"authors": [alice.pubkey], "kinds": [10063]})
    assert [t for t in server_lists[0]["tags"] if t[0] == "server"] == [["server", blossom.url]]


def test_a_failing_server_falls_back_to_the_bridge_and_the_community_sees_the_post(
    new_user: UserFactory, stack: Stack, broken_blossom: Service
) -> None:
    bob = new_user()
    add_server(bob, broken_blossom.url)
    data = png(32, 32, 2)
    post_files(bob, "question with a picture", [("q.png", "image/png", data)], community=True)
    line = bob.page.locator("#community-composer-progress li").inner_text()
    assert line.startswith("q.png: stored on the Bridge")
    (note,) = [e for e in published(stack, bob.pubkey) if e["kind"] == 1]
    assert note["hashtags"] == ["asknostr"]
    (meta,) = note["imeta"]
    assert meta["url"].startswith(stack.media_url + "/")
    with urllib.request.urlopen(meta["url"]) as response:
        assert response.read() == data
    assert bridge_state(stack, meta["i"], user=bob) == "seeding"

    carol = new_user()  # follows nobody, and still sees it in #asknostr
    carol.show("community")
    carol.page.locator("#community-feed .post", has_text="question with a picture").wait_for(timeout=15_000)
    assert "500" in " ".join(log_lines(broken_blossom, "PUT /upload"))


@pytest.mark.webrtc
def test_after_the_uploader_leaves_another_browser_gets_the_file_over_p2p(
    new_user: UserFactory, browser: Browser, stack: Stack
) -> None:
    dave = new_user()
    data = os.urandom(400_000)
    post_files(dave, "a clip", [("clip.mp4", "video/mp4", data)])
    (note,) = [e for e in published(stack, dave.pubkey) if e["kind"] == 1]
    (meta,) = note["imeta"]
    assert bridge_state(stack, meta["i"], user=dave) == "seeding"
    dave.close()  # the uploader's tab is gone
    got = download_in_browser(browser, stack.bridge.url, meta["magnet"])
    assert got["sha256"] == hashlib.sha256(data).hexdigest() and got["peers"] == ["webrtc"]


@pytest.mark.webrtc
def test_seeding_survives_a_reload_without_downloading(new_user: UserFactory, browser: Browser, stack: Stack) -> None:
    erin = new_user()
    erin.page.route("**/api/ping", lambda route: route.abort())  # the Bridge never hears of it: Erin alone seeds
    data = os.urandom(600_000)
    post_files(erin, "kept", [("kept.bin", "application/octet-stream", data)])
    (note,) = [e for e in published(stack, erin.pubkey) if e["kind"] == 1]
    (meta,) = note["imeta"]
    erin.page.reload()
    erin.wait_ready()
    erin.page.wait_for_function("document.body.dataset.resumed === '1'", timeout=20_000)
    torrents = erin.page.evaluate(LIST)
    (mine,) = [t for t in torrents if t["infoHash"] == meta["i"]]
    # seeded again from IndexedDB with its .torrent: no piece fetched (peers exchange only handshakes and bitfields),
    # in the app's pieces of 256 KiB (600 kB: 3 pieces)
    assert mine["done"] and mine["received"] < 16_384 and mine["pieceLength"] == 256 * 1024
    got = download_in_browser(browser, stack.bridge.url, meta["magnet"])  # from Erin's kept copy
    assert got["sha256"] == hashlib.sha256(data).hexdigest() and got["peers"] == ["webrtc"]
    # what Erin gave the swarm is counted in her health panel, and still there after a reload (0.6 MB)
    given = "document.getElementById('swarm-health').textContent.includes('uploaded 0.6 MB')"
    erin.page.wait_for_function(given, timeout=15_000)
    erin.page.reload()
    erin.wait_ready()
    erin.page.wait_for_function(given, timeout=15_000)
    erin.show("feed")  # her post says that her browser seeds it, after a reload too
    erin.page.locator(f'.post[data-infohashes~="{meta["i"]}"] .seeding', has_text="Seeding your post").wait_for(
        timeout=10_000
    )


def test_pings_wait_in_indexeddb_while_the_bridge_is_away(new_user: UserFactory, stack: Stack) -> None:
    frank = new_user()
    refused: list[str] = []

    def bridge_away(route: Any) -> None:
        refused.append(route.request.url)
        route.abort("connectionrefused")

    frank.page.route("**/api/ping", bridge_away)
    data = os.urandom(50_000)
    assert "published" in post_files(frank, "Bridge away", [("away.bin", "application/octet-stream", data)])
    (note,) = [e for e in published(stack, frank.pubkey) if e["kind"] == 1]
    info_hash = note["imeta"][0]["i"]
    assert refused, "the ping was tried"
    queued = frank.page.evaluate(QUEUED)
    assert [p["info_hash"] for p in json.loads(queued)] == [info_hash]
    with pytest.raises(AssertionError, match="the Bridge does not know"):
        bridge_state(stack, info_hash, timeout=0)

    frank.page.unroute("**/api/ping")  # the Bridge is back...
    frank.page.reload()  # ...and the next start sends what waited in IndexedDB at once
    frank.wait_ready()
    assert bridge_state(stack, info_hash, timeout=20, user=frank) == "seeding"
    eventually(frank.page, f"{QUEUED}.then((q) => q === '[]')", timeout_ms=10_000)


def test_servers_are_ordered_and_removed_and_unreachable_ones_skipped(
    new_user: UserFactory, stack: Stack, blossom: Service, broken_blossom: Service
) -> None:
    gina = new_user()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for url in (blossom.url, dead, broken_blossom.url):
        add_server(gina, url)
    for button in (".move-server", ".remove-server"):
        item = 3 if button == ".move-server" else 1  # broken up, above dead; then the working one goes
        gina.page.eval_on_selector("#server-result", "node => { node.textContent = '' }")
        gina.page.click(f"#server-list li:nth-child({item}) {button}")
        gina.page.locator("#server-result", has_text="saved").wait_for()
    expected = [broken_blossom.url, dead, stack.media_url]
    assert gina.page.locator("#server-list li .name").all_inner_texts() == expected
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lists = relay_query(stack.relay.url, {"authors": [gina.pubkey], "kinds": [10063]})
        servers = [t[1] for t in max(lists, key=lambda e: e["created_at"])["tags"] if t[0] == "server"]
        if servers == expected[:2]:
            break
        gina.page.wait_for_timeout(300)  # not time.sleep: the page's requests pass through this process's routes
    assert servers == expected[:2]  # the Bridge is not in the published list

    post_files(gina, "fallbacks", [("f.bin", "application/octet-stream", os.urandom(20_000))])
    line = gina.page.locator("#composer-progress li").inner_text()
    assert line.startswith("f.bin: stored on the Bridge")


def test_nip96_servers_take_uploads_and_transforming_ones_are_passed_over(
    new_user: UserFactory, stack: Stack, nip96: Service, transforming_nip96: Service
) -> None:
    hana = new_user()
    add_server(hana, transforming_nip96.url, "nip96")  # first: it changes the bytes, so the torrent would not match
    add_server(hana, nip96.url, "nip96")
    data = png(40, 30, 3)
    post_files(hana, "via nip-96", [("n.png", "image/png", data)])
    line = hana.page.locator("#composer-progress li").inner_text()
    assert line == f"n.png: stored on {nip96.url[7:]}"
    (note,) = [e for e in published(stack, hana.pubkey) if e["kind"] == 1]
    (meta,) = note["imeta"]
    assert meta["url"].startswith(nip96.url + "/") and meta["x"] == hashlib.sha256(data).hexdigest()
    with urllib.request.urlopen(meta["url"]) as response:
        assert response.read() == data
    assert bridge_state(stack, meta["i"], user=hana) == "seeding"
    assert any(" 201" in line for line in log_lines(transforming_nip96, "POST /api/v2/media"))  # it was tried
    lists = relay_query(stack.relay.url, {"authors": [hana.pubkey], "kinds": [10096]})
    newest = max(lists, key=lambda e: e["created_at"])
    assert [t[1] for t in newest["tags"] if t[0] == "server"] == [transforming_nip96.url, nip96.url]


def test_a_post_is_made_once_however_often_post_is_pressed_and_an_empty_file_is_refused(
    new_user: UserFactory, stack: Stack
) -> None:
    ivy = new_user()
    ivy.show("feed")
    payload = FilePayload(name="once.bin", mimeType="application/octet-stream", buffer=os.urandom(200_000))
    ivy.page.set_input_files("#composer-files", files=[payload])
    ivy.page.fill("#composer-text", "pressed twice")
    # two presses before the first post's task has run (a double click, an impatient Enter)
    ivy.page.evaluate(
        "() => { const form = document.getElementById('composer'); form.requestSubmit(); form.requestSubmit() }"
    )
    ivy.page.wait_for_function("document.querySelector('#composer fieldset').disabled", timeout=5000)  # held
    ivy.page.locator("#composer-result").filter(has_text="published").wait_for(timeout=20_000)
    ivy.page.wait_for_timeout(2000)  # a second note would be on the relay by now
    notes = [e for e in relay_query(stack.relay.url, {"authors": [ivy.pubkey], "kinds": [1]})]
    assert [n["content"].split("\n")[0] for n in notes] == ["pressed twice"], notes
    # the file's URL stays in the note for clients that read no imeta tag, and is not shown above what shows it
    post = ivy.page.locator(f'.post[data-id="{notes[0]["id"]}"]')
    post.wait_for(timeout=10_000)
    assert notes[0]["content"].split("\n")[1].startswith("http")
    assert post.locator(".text").inner_text() == "pressed twice"
    post.locator(".seeding", has_text="Seeding your post").wait_for(timeout=10_000)  # this browser seeds it
    assert ivy.page.locator("#composer-progress li").count() == 1  # its file's line
    assert not ivy.page.locator("#composer fieldset").is_disabled()

    empty = FilePayload(name="empty.mp4", mimeType="video/mp4", buffer=b"")
    ivy.page.set_input_files("#composer-files", files=[empty])
    said = ivy.submit("composer-result", {"#composer-text": "nothing in it"}, "#post-button", "nothing posted")
    assert said == "empty.mp4: the file is empty — nothing posted"
    assert "error" in str(ivy.page.get_attribute("#composer-result", "class"))
    assert ivy.page.locator("#composer-progress li").count() == 0  # the last post's line is not left above it
    assert len(relay_query(stack.relay.url, {"authors": [ivy.pubkey], "kinds": [1]})) == 1
