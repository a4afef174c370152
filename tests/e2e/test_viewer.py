"""The viewer, in real browsers talking WebRTC: P2P first, HTTP when the swarm cannot serve (at once when the tracker
knows no seeder, after 5 s when no tracker answers), media streamed to the element through the service worker, and
what came over HTTP seeded to the next viewer once the media server is gone."""

from __future__ import annotations

import hashlib
import math
import struct
import time
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest

from devstack.blossom import start_blossom
from devstack.services import Service, free_port
from tests.bridge.client import upload
from tests.e2e.harness import AppUser, Stack, UserFactory, eventually, relay_publish
from tests.e2e.test_composer import LIST, add_server, log_lines, post_files, published
from tests.unit.nostr_keys import keypair, sign_event


def wav(seconds: float, rate: int = 8000, tone: float = 440.0) -> bytes:
    """A real WAV (16-bit mono PCM) the browser can play."""
    frames = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * tone * n / rate))) for n in range(int(seconds * rate))
    )
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(frames), b"WAVE", b"fmt ", 16, 1, 1, rate,
                         rate * 2, 2, 16, b"data", len(frames))  # fmt: skip
    return header + frames


@pytest.fixture
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A Blossom server of the test's own (a test may stop it)."""
    service = start_blossom(tmp_path_factory.mktemp("viewer-blossom"), free_port())
    yield service
    service.stop()


PLAY = """async (ih) => {
  const element = document.querySelector(`figure.torrent-media[data-infohash="${ih}"] :is(audio, video)`)
  element.muted = true
  await element.play()
  return element.currentSrc
}"""

# the bytes the streaming route serves (the same path the element reads), whole and for one range
READ = """async (ih) => {
  const hex = async (buffer) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', buffer))]
    .map((b) => b.toString(16).padStart(2, '0')).join('')
  const whole = await fetch(`./stream/${ih}`)
  const part = await fetch(`./stream/${ih}`, { headers: { Range: 'bytes=100-199' } })
  return { sha256: await hex(await whole.arrayBuffer()), status: part.status, range: part.headers.get('content-range'),
           part: await hex(await part.arrayBuffer()) }
}"""


# counts the sizes of the data-channel messages this page sends (into window.sent)
SPY_SENDS = """() => {
  window.sent = []
  const send = RTCDataChannel.prototype.send
  RTCDataChannel.prototype.send = function (data) {
    window.sent.push(data.byteLength ?? data.size)
    return send.call(this, data)
  }
}"""


def figure(user: AppUser, info_hash: str) -> dict[str, str]:
    data: dict[str, str] = user.page.evaluate(
        "(ih) => ({ ...document.querySelector(`figure.torrent-media[data-infohash='${ih}']`).dataset,"
        " caption: document.querySelector(`figure.torrent-media[data-infohash='${ih}'] figcaption`).textContent })",
        info_hash,
    )
    return data


def play(user: AppUser, info_hash: str, view: str = "community") -> dict[str, str]:
    """Press play on the post's media; once it plays, its figure's data (source, reason, decidedMs…)."""
    user.show(view)
    user.page.locator(f'#{view}-feed figure.torrent-media[data-infohash="{info_hash}"]').first.wait_for(timeout=15_000)
    assert user.page.evaluate(PLAY, info_hash).endswith(f"/stream/{info_hash}")
    # the element may play from P2P's first piece a moment before the race's next look decides (it looks every 50 ms;
    # longer on a busy machine): its figure says the source once decided
    user.page.wait_for_function(
        "(ih) => document.querySelector(`figure.torrent-media[data-infohash='${ih}']`).dataset.source !== 'waiting'",
        arg=info_hash,
        timeout=10_000,
    )
    return figure(user, info_hash)


def wait_shared(user: AppUser, info_hash: str, timeout_s: float = 30) -> dict[str, str]:
    deadline = time.monotonic() + timeout_s
    while "shared" not in (data := figure(user, info_hash)) and time.monotonic() < deadline:
        user.page.wait_for_timeout(200)  # not time.sleep: the pages' requests pass through this process's routes
    return data


def blob_gets(server: Service, url: str) -> int:
    return len(log_lines(server, f"GET {urlsplit(url).path}"))


def post_alone(user: AppUser, stack: Stack, server: Service, text: str, file: tuple[str, str, bytes]) -> dict[str, str]:
    """`user` posts `file` to the community with `server` as media server and the Bridge not pinged: the poster's
    browser alone seeds it. The note's imeta entry, as nostr-tools reads it."""
    add_server(user, server.url)
    user.page.route("**/api/ping", lambda route: route.abort())
    post_files(user, text, [file], community=True)
    (note,) = [e for e in published(stack, user.pubkey) if e["kind"] == 1]
    (meta,) = note["imeta"]
    return dict(meta)


@pytest.mark.webrtc
def test_no_seeder_plays_from_http_at_once_then_the_viewer_serves_the_next_one(
    new_user: UserFactory, stack: Stack, media_server: Service
) -> None:
    alice = new_user()
    audio = wav(20)
    meta = post_alone(alice, stack, media_server, "listen to this", ("tone.wav", "audio/wav", audio))
    info_hash = meta["i"]
    alice.close()  # the uploader's tab is gone: the tracker knows no seeder

    bob = new_user()
    seen = play(bob, info_hash)
    assert seen["source"] == "http" and "no seeder" in seen["reason"]
    assert int(seen["decidedMs"]) <= 1000, seen  # the tracker's answer, not the 5-second rule
    read = bob.page.evaluate(READ, info_hash)
    assert read["sha256"] == hashlib.sha256(audio).hexdigest()
    assert read["status"] == 206 and read["range"] == f"bytes 100-199/{len(audio)}"
    assert read["part"] == hashlib.sha256(audio[100:200]).hexdigest()
    assert blob_gets(media_server, meta["url"]) == 1  # one download: it played, and it is seeded from those bytes
    assert wait_shared(bob, info_hash)["shared"] == "yes"

    media_server.stop()  # the HTTP copy is gone: only Bob's browser has the file
    carol = new_user()
    seen = play(carol, info_hash)
    assert seen["source"] == "p2p" and seen["reason"] == "data arrived over P2P"
    assert carol.page.evaluate(READ, info_hash)["sha256"] == hashlib.sha256(audio).hexdigest()
    assert wait_shared(carol, info_hash)["shared"] == "yes" and "P2P" in figure(carol, info_hash)["caption"]


@pytest.mark.webrtc
def test_a_seeder_present_plays_over_p2p_and_the_media_server_sees_no_request(
    new_user: UserFactory, stack: Stack, media_server: Service
) -> None:
    alice = new_user()
    audio = wav(70, tone=660)  # 1.1 MB
    meta = post_alone(alice, stack, media_server, "p2p please", ("p2p.wav", "audio/wav", audio))  # Alice alone seeds
    alice.page.evaluate(SPY_SENDS)

    bob = new_user()
    # a file above Bob's automatic-sharing limit still plays to its end (the limit is for joining on one's own)
    bob.show("settings")
    bob.submit("storage-result", {"#quota-input": "500", "#cap-input": "1"}, "#storage-save", "saved")
    bob.show("community")  # the post in view: its swarm is joined ahead of play, and no piece is fetched
    eventually(bob.page, f"{LIST}.then((l) => l.some((t) => t.infoHash === '{meta['i']}' && t.numPeers > 0))")
    bob.page.wait_for_timeout(1000)
    (ahead,) = [t for t in bob.page.evaluate(LIST) if t["infoHash"] == meta["i"]]
    assert ahead["downloaded"] == 0 and ahead["received"] < 16_384, ahead  # the metadata, no block of a piece
    seen = play(bob, meta["i"])
    assert seen["source"] == "p2p", seen
    assert bob.page.evaluate(READ, meta["i"])["sha256"] == hashlib.sha256(audio).hexdigest()
    assert wait_shared(bob, meta["i"])["shared"] == "yes"
    assert blob_gets(media_server, meta["url"]) == 0  # not one request for it
    assert not [u for u in bob.requests if urlsplit(u).netloc == urlsplit(media_server.url).netloc]
    # Alice's blocks left with their headers, three to a data-channel message (static/js/webtorrent_tuning.js)
    sent = alice.page.evaluate("() => window.sent")
    assert 3 * (16_384 + 13) in sent and 16_384 not in sent and max(sent) <= 65_536, sorted(set(sent))
    assert sum(n for n in sent if n > 1000) >= len(audio), sorted(set(sent))
    # Alice plays her own upload: it is on her device, and the caption says so (not "P2P · 1 peer")
    mine = play(alice, meta["i"])
    assert mine["source"] == "p2p" and mine["reason"] == "on this device", mine
    assert alice.page.evaluate(READ, meta["i"])["sha256"] == hashlib.sha256(audio).hexdigest()
    caption = f"document.querySelector(`figure.torrent-media[data-infohash='{meta['i']}'] figcaption`).textContent"
    eventually(alice.page, f"{caption}.startsWith('On this device')")


@pytest.mark.webrtc
def test_when_no_tracker_answers_the_five_second_rule_switches_to_http(
    new_user: UserFactory, stack: Stack, media_server: Service
) -> None:
    secret, _ = keypair(6006)
    audio = wav(4, tone=330)
    sha = hashlib.sha256(audio).hexdigest()
    url = upload(media_server.url, audio, secret)
    dead = f"ws://127.0.0.1:{free_port()}"  # nothing listens there: this tracker never answers
    info_hash = hashlib.sha1(sha.encode()).hexdigest()  # a torrent nobody has
    magnet = f"magnet:?xt=urn:btih:{info_hash}&dn=late.wav&tr={quote(dead, safe='')}"
    imeta = ["imeta", f"url {url}", "m audio/wav", f"x {sha}", f"size {len(audio)}", f"i {info_hash}",
             f"magnet {magnet}"]  # fmt: skip
    note = sign_event({"kind": 1, "content": f"late #asknostr {url}", "tags": [imeta, ["t", "asknostr"]]}, secret)
    assert relay_publish(stack.relay.url, note)[0]

    bob = new_user()
    seen = play(bob, info_hash)
    assert seen["source"] == "http" and seen["reason"] == "no peer after 5 s", seen
    assert 5000 <= int(seen["decidedMs"]) <= 6500
    assert bob.page.evaluate(READ, info_hash)["sha256"] == sha
    data = wait_shared(bob, info_hash)
    assert data["shared"] == "no"  # the HTTP copy is not that torrent (its hash is made up): nothing is seeded
