"""The bootstrap ping: the Bridge downloads a post's media from the user's server, checks it against the torrent,
and seeds it over WebRTC to a browser that has no other peer."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from bridge.torrent import build_info
from devstack.services import free_port, start_bridge
from tests.e2e.harness import Stack
from tests.unit.nostr_keys import keypair, sign_event

SIZE = 2 * 1024 * 1024 + 999
DATA = bytes((i * 131 + (i >> 10)) % 256 for i in range(SIZE))
SECRET, PUBKEY = keypair(3003)

DOWNLOAD = """async (magnet) => {
  const { default: WebTorrent } = await import('/static/vendor/webtorrent.min.js')
  const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } } })
  const t0 = performance.now()
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no download in 60 s')), 60000)
    const t = client.add(magnet)
    const wires = []
    let first = null
    t.on('wire', (wire) => wires.push(wire.type))
    t.on('download', () => { if (first === null) first = performance.now() - t0 })
    t.on('done', async () => {
      clearTimeout(timer)
      const bytes = new Uint8Array(await t.files[0].arrayBuffer())
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
      resolve({ sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''), first,
        total: performance.now() - t0, peers: wires })
    })
  })
}"""


def _auth(event: dict[str, Any]) -> str:
    return "Nostr " + base64.b64encode(json.dumps(event).encode()).decode()


def _request(method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def upload(server: str, data: bytes) -> str:
    """Blossom upload (BUD-02) to the user's own media server; the blob's URL."""
    sha = hashlib.sha256(data).hexdigest()
    tags = [["t", "upload"], ["x", sha], ["expiration", str(int(time.time()) + 600)]]
    event = sign_event(
        {"kind": 24242, "content": "Upload clip", "tags": tags, "created_at": int(time.time()) - 1}, SECRET
    )
    status, descriptor = _request("PUT", f"{server}/upload", data, {"Authorization": _auth(event)})
    assert status in (200, 201), descriptor
    return str(descriptor["url"])


def ping(bridge: str, payload: dict[str, str], *, url: str = "") -> tuple[int, dict[str, Any]]:
    body = json.dumps(payload).encode()
    tags = [["u", url or f"{bridge}/api/ping"], ["method", "POST"], ["payload", hashlib.sha256(body).hexdigest()]]
    event = sign_event({"kind": 27235, "content": "", "tags": tags}, SECRET)
    return _request("POST", f"{bridge}/api/ping", body, {"Authorization": _auth(event)})


def _payload(url: str, data: bytes, tracker: str) -> dict[str, str]:
    info = build_info([data], "clip.mp4", len(data))
    magnet = f"magnet:?xt=urn:btih:{info.info_hash}&dn=clip.mp4&tr={tracker}"
    return {"url": url, "magnet": magnet, "torrent": base64.b64encode(info.info_bytes).decode()}


@pytest.fixture(scope="module")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The user's own Blossom server (a second Bridge process, standing in for any Blossom server)."""
    server = start_bridge(tmp_path_factory.mktemp("media"), free_port(), relays=[], trackers=[])
    yield server.url
    server.stop()


@pytest.mark.webrtc
def test_after_a_ping_a_browser_downloads_from_the_bridge_alone(
    browser: Browser, stack: Stack, media_server: str
) -> None:
    url = upload(media_server, DATA)
    t0 = time.perf_counter()
    status, result = ping(stack.bridge.url, _payload(url, DATA, stack.tracker.url))
    assert status == 200, result
    assert result["state"] == "seeding" and result["sha256"] == hashlib.sha256(DATA).hexdigest()
    pinged = time.perf_counter() - t0

    page = browser.new_context().new_page()
    try:
        page.goto(stack.bridge.url + "/config.json")
        got = page.evaluate(DOWNLOAD, _payload(url, DATA, stack.tracker.url)["magnet"])
    finally:
        page.context.close()
    assert got["sha256"] == hashlib.sha256(DATA).hexdigest()
    assert got["peers"] == ["webrtc"]  # the Bridge was the only peer
    print(f"\nping answered in {pinged:.2f} s (download and check included); first piece {got['first'] / 1000:.2f} s "
          f"after the browser joined, all {SIZE / 1e6:.1f} MB in {got['total'] / 1000:.2f} s")  # fmt: skip


def test_content_that_does_not_match_the_torrent_is_never_seeded(stack: Stack, media_server: str) -> None:
    other = bytes(reversed(DATA[:100_000]))
    url = upload(media_server, other)
    status, result = ping(stack.bridge.url, _payload(url, DATA[:100_000], stack.tracker.url))
    assert status == 422 and "does not match the torrent" in result["error"]


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x", "file:///etc/passwd", "http://[::1]:1/x"],
)
def test_ping_urls_into_private_space_are_refused(stack: Stack, url: str) -> None:
    status, result = ping(stack.bridge.url, _payload(url, DATA[:1000], stack.tracker.url))
    assert status == 403 and "will not fetch" in result["error"]


def test_pings_need_a_matching_nip98_signature_and_torrent(stack: Stack, media_server: str) -> None:
    payload = _payload(f"{media_server}/x", DATA[:1000], stack.tracker.url)
    status, result = ping(stack.bridge.url, payload, url=f"{stack.bridge.url}/api/other")
    assert status == 401 and "another URL" in result["error"]
    status, result = _request("POST", f"{stack.bridge.url}/api/ping", json.dumps(payload).encode(), {})
    assert status == 401
    wrong = dict(payload, magnet="magnet:?xt=urn:btih:" + "ab" * 20)
    status, result = ping(stack.bridge.url, wrong)
    assert status == 400 and "infoHash" in result["error"]


def test_a_blob_uploaded_to_the_bridge_is_seeded_from_its_own_store(stack: Stack, tmp_path: Path) -> None:
    data = DATA[:300_000]
    url = upload(stack.bridge.url, data)
    status, result = ping(stack.bridge.url, _payload(url, data, stack.tracker.url))
    assert status == 200 and result["state"] == "seeding", result
