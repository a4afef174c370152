"""The bootstrap ping: the Bridge downloads a post's media from the user's server, checks it against the torrent,
and seeds it over WebRTC to a browser that has no other peer — also after it was killed and restarted."""

from __future__ import annotations

import hashlib
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from devstack.services import Service, free_port, start_bridge
from tests.bridge.client import info_hash_of, ping_payload, request, signed_post, upload
from tests.e2e.harness import Stack, download_in_browser
from tests.unit.nostr_keys import keypair

SIZE = 2 * 1024 * 1024 + 999
DATA = bytes((i * 131 + (i >> 10)) % 256 for i in range(SIZE))
SECRET, PUBKEY = keypair(3003)


def ping(bridge: str, payload: dict[str, str], *, url: str = "") -> tuple[int, dict[str, Any]]:
    status, answer = signed_post(f"{bridge}/api/ping", payload, SECRET, signed_url=url)
    return status, dict(answer)


@pytest.fixture(scope="module")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The user's own Blossom server (a second Bridge process, standing in for any Blossom server)."""
    server = start_bridge(tmp_path_factory.mktemp("media"), free_port(), relays=[], trackers=[])
    yield server.extra["media_url"]
    server.stop()


@pytest.mark.webrtc
def test_after_a_ping_a_browser_downloads_from_the_bridge_alone(
    browser: Browser, stack: Stack, media_server: str
) -> None:
    url = upload(media_server, DATA, SECRET)
    t0 = time.perf_counter()
    status, result = ping(stack.bridge.url, ping_payload(url, DATA, stack.tracker.url))
    assert status == 200, result
    assert result["state"] == "seeding" and result["sha256"] == hashlib.sha256(DATA).hexdigest()
    pinged = time.perf_counter() - t0

    got = download_in_browser(browser, stack.bridge.url, ping_payload(url, DATA, stack.tracker.url)["magnet"])
    assert got["sha256"] == hashlib.sha256(DATA).hexdigest()
    assert got["peers"] == ["webrtc"]  # the Bridge was the only peer
    print(f"\nping answered in {pinged:.2f} s (download and check included); first piece {got['first'] / 1000:.2f} s "
          f"after the browser joined, all {SIZE / 1e6:.1f} MB in {got['total'] / 1000:.2f} s")  # fmt: skip


@pytest.mark.webrtc
def test_a_killed_bridge_seeds_again_after_a_restart(browser: Browser, stack: Stack, tmp_path: Path) -> None:
    data = DATA[: 1024 * 1024]

    def start() -> Service:
        return start_bridge(tmp_path, free_port(), relays=[], trackers=[stack.tracker.url])

    bridge = start()
    try:
        payload = ping_payload(
            upload(bridge.extra["media_url"], data, SECRET), data, stack.tracker.url, "映" * 100 + ".mp4"
        )
        assert ping(bridge.url, payload)[0] == 200
        bridge.kill()  # no clean shutdown
        bridge = start()
        status, answer = request("GET", f"{bridge.url}/api/torrents/{info_hash_of(payload)}", b"", {})
        assert status == 200 and answer["state"] == "seeding", answer
        got = download_in_browser(browser, stack.bridge.url, payload["magnet"])
        assert got["sha256"] == hashlib.sha256(data).hexdigest() and got["peers"] == ["webrtc"]
        blob = tmp_path / "bridge" / "blobs" / got["sha256"][:2] / got["sha256"]
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == got["sha256"]  # no file lost
    finally:
        bridge.stop()


def test_content_that_does_not_match_the_torrent_is_never_seeded(stack: Stack, media_server: str) -> None:
    other = bytes(reversed(DATA[:100_000]))
    url = upload(media_server, other, SECRET)
    status, result = ping(stack.bridge.url, ping_payload(url, DATA[:100_000], stack.tracker.url))
    assert status == 422 and "does not match the torrent" in result["error"]


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x", "file:///etc/passwd", "http://[::1]:1/x"],
)
def test_ping_urls_into_private_space_are_refused(stack: Stack, url: str) -> None:
    status, result = ping(stack.bridge.url, ping_payload(url, DATA[:1000], stack.tracker.url))
    assert status == 403 and "will not fetch" in result["error"]


def test_pings_need_a_matching_nip98_signature_and_torrent(stack: Stack, media_server: str) -> None:
    payload = ping_payload(f"{media_server}/x", DATA[:1000], stack.tracker.url)
    status, result = ping(stack.bridge.url, payload, url=f"{stack.bridge.url}/api/other")
    assert status == 401 and "another URL" in result["error"]
    status, result = request("POST", f"{stack.bridge.url}/api/ping", b"{}", {})
    assert status == 401
    wrong = dict(payload, magnet="magnet:?xt=urn:btih:" + "ab" * 20)
    status, result = ping(stack.bridge.url, wrong)
    assert status == 400 and "infoHash" in result["error"]


def test_a_blob_uploaded_to_the_bridge_is_seeded_from_its_own_store(stack: Stack) -> None:
    data = DATA[:300_000]
    url = upload(stack.media_url, data, SECRET)
    status, result = ping(stack.bridge.url, ping_payload(url, data, stack.tracker.url))
    assert status == 200 and result["state"] == "seeding", result
    with urllib.request.urlopen(f"{stack.media_url}/{result['sha256']}") as response:
        assert response.read() == data
