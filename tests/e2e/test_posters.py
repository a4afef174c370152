"""Media that looks finished (issue 16), in real Chromium against the real stack: a posted video gets a poster made
in the author's browser (a frame, a small JPEG on the same media server as the video), a blurhash and its dim in
its imeta; a follower's feed shows the poster before play, in a box of the video's shape that holds its blurhash;
malformed previews from another client are ignored without breaking the feed; a video the browser cannot decode is
posted all the same, with no poster. The clip is recorded by Chromium itself (MediaRecorder, WebM VP8): no encoder
is needed on the machine."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.request
from typing import Any

from asknostr import nip19
from devstack.services import ROOT
from tests.e2e.clips import record_clip
from tests.e2e.harness import AppUser, Stack, UserFactory, eventually, relay_publish
from tests.e2e.test_composer import post_files, published
from tests.e2e.test_layout import PHONE, overflow
from tests.unit.nostr_keys import keypair, sign_event

RED, BLUE = (200, 40, 40), (30, 60, 200)

# What a clip of `ms` milliseconds shows (tests.e2e.clips): RED for its first half, then BLUE (so its poster's colour
# says which frame it is).
RED_THEN_BLUE = """const [r, g, b] = elapsed < ms / 2 ? args[0] : args[1]
    c.fillStyle = `rgb(${r}, ${g}, ${b})`
    c.fillRect(0, 0, width, height)"""

# Width, height and the middle pixel of an image's bytes (base64), decoded by the browser.
DECODE = """async (data) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0))
  const bitmap = await createImageBitmap(new Blob([bytes]))
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height)
  const context = canvas.getContext('2d')
  context.drawImage(bitmap, 0, 0)
  const pixel = Array.from(context.getImageData(bitmap.width >> 1, bitmap.height >> 1, 1, 1).data.slice(0, 3))
  return [bitmap.width, bitmap.height, pixel]
}"""

# What the npm blurhash package (not the app's decoder) makes of a hash: valid, and its 4x3 pixels.
BLURHASH = """
const { isBlurhashValid, decode } = require('blurhash')
const hash = process.argv[1]
const valid = isBlurhashValid(hash).result
process.stdout.write(JSON.stringify({ valid, rgba: valid ? Array.from(decode(hash, 4, 3)) : [] }))
"""

# The video element of a post as a viewer sees it before play.
SEEN = """(video) => {
  const box = video.getBoundingClientRect()
  const style = getComputedStyle(video)
  return {
    poster: video.getAttribute('poster'), ratio: style.aspectRatio, background: video.style.backgroundImage,
    width: box.width, height: box.height, readyState: video.readyState, played: video.played.length,
    fetched: performance.getEntriesByType('resource').some((entry) => entry.name === video.getAttribute('poster')),
  }
}"""


def close_to(pixel: list[int], colour: tuple[int, int, int], tolerance: int = 30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def npm_blurhash(value: str) -> dict[str, Any]:
    out = subprocess.run(["node", "-e", BLURHASH, value], capture_output=True, check=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def python_errors(user: AppUser) -> list[str]:
    """Errors of the app itself (a failed image load logs an error too, which is the network's, not the app's)."""
    return [e for e in user.console_errors if "Failed to load resource" not in e]


def test_a_posted_video_has_a_poster_and_a_follower_sees_it_before_play(new_user: UserFactory, stack: Stack) -> None:
    alice, bob = new_user(), new_user(**PHONE)
    bob.follow(alice.npub)
    clip = record_clip(alice.page, RED_THEN_BLUE, 320, 180, 1600, args=[RED, BLUE])
    assert clip[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM

    report = post_files(alice, "a clip with a poster", [("clip.webm", "video/webm", clip)])
    assert "published" in report

    (note,) = [e for e in published(stack, alice.pubkey) if e["kind"] == 1]
    (meta,) = note["imeta"]
    assert meta["dim"] == "320x180"
    assert meta["image"].startswith(stack.media_url + "/") and meta["image"] != meta["url"]
    # the blurhash, read by the npm package: a valid hash of the poster's frame (the first: RED)
    hashed = npm_blurhash(meta["blurhash"])
    assert hashed["valid"], meta["blurhash"]
    rgba = hashed["rgba"]
    assert all(close_to(rgba[i : i + 3], RED) for i in range(0, len(rgba), 4)), rgba
    (file_event,) = [e for e in published(stack, alice.pubkey) if e["kind"] == 1063]
    assert file_event["file"]["image"] == meta["image"] and file_event["file"]["blurhash"] == meta["blurhash"]

    # the poster is on the media server that took the video: a small JPEG of the clip's frame, its shape
    with urllib.request.urlopen(meta["image"]) as response:
        poster = response.read()
    assert poster[:3] == b"\xff\xd8\xff" and len(poster) < 100_000
    width, height, middle = alice.page.evaluate(DECODE, base64.b64encode(poster).decode())
    assert (width, height) == (320, 180)  # under 640 px on the long side: kept at its size
    assert close_to(middle, RED), middle

    # Bob (a phone) sees the video with its poster, in a box of its shape, before anything played
    bob.show("feed")
    card = bob.post_locator("a clip with a poster")
    video = card.locator("figure.torrent-media video")
    video.wait_for(timeout=30_000)
    eventually(bob.page, f"performance.getEntriesByName({json.dumps(meta['image'])}).length > 0")
    seen = video.evaluate(SEEN)
    assert seen["poster"] == meta["image"] and seen["fetched"]
    assert seen["ratio"] == "auto 320 / 180"
    assert abs(seen["width"] / seen["height"] - 320 / 180) < 0.02, seen
    assert seen["played"] == 0 and seen["readyState"] == 0  # before play: nothing of the video loaded
    assert seen["background"].startswith('url("data:image/png;base64,')  # the blurhash, until it plays
    assert overflow(bob, card) == []
    assert python_errors(bob) == []


def test_malformed_previews_from_another_client_are_ignored(new_user: UserFactory, stack: Stack) -> None:
    secret, mallory = keypair(1601)
    bob = new_user(**PHONE)
    bob.follow(nip19.npub_encode(mallory))
    missing = f"{stack.media_url}/{'0' * 64}"
    tags = [
        ["imeta", f"url {missing}.mp4", "m video/mp4", "dim 0x0", "image javascript:alert(1)", "blurhash !!garbage"],
        ["imeta", f"url {missing}.png", "m image/png", "dim 99999999x1", "image data:,x", "blurhash LEHV6nWB2yk8pyo0"],
        [
            *("imeta", f"url {missing}.webm", "m video/webm", "dim 1920x1080", "image ftp://x.test/p.jpg"),
            *("blurhash LEHV6nWB2yk8pyo0adR*.7kCMdnj", "thumbhash %%%"),
        ],
        ["imeta", f"url {missing}.jpg", "m image/jpeg", "dim 65535x1", "blurhash " + "~" * 3000],
    ]
    event = sign_event({"kind": 1, "tags": tags, "content": "odd previews", "created_at": int(time.time())}, secret)
    assert relay_publish(stack.relay.url, event)[0]

    bob.show("feed")
    card = bob.post_locator("odd previews")
    card.wait_for(timeout=30_000)
    elements = card.locator(".media img, .media video")
    eventually(bob.page, "document.querySelectorAll('#feed .post .media :is(img, video)').length === 4")
    seen = elements.evaluate_all(
        """(nodes) => nodes.map((node) => ({
          tag: node.tagName, poster: node.getAttribute('poster'), ratio: node.style.aspectRatio,
          placeholder: node.style.backgroundImage,
        }))"""
    )
    assert seen == [
        {"tag": "VIDEO", "poster": None, "ratio": "", "placeholder": ""},
        {"tag": "IMG", "poster": None, "ratio": "", "placeholder": ""},
        {"tag": "VIDEO", "poster": None, "ratio": "auto 1920 / 1080", "placeholder": seen[2]["placeholder"]},
        {"tag": "IMG", "poster": None, "ratio": "auto 4 / 1", "placeholder": ""},  # clamped; its hash was too long
    ]
    assert seen[2]["placeholder"].startswith('url("data:image/png;base64,')
    assert overflow(bob, card) == []
    assert python_errors(bob) == []


def test_a_video_the_browser_cannot_decode_is_posted_without_a_poster(new_user: UserFactory, stack: Stack) -> None:
    carol = new_user()
    noise = bytes(range(256)) * 200  # not a video at all, though named one
    report = post_files(carol, "not really a clip", [("noise.mp4", "video/mp4", noise)])
    assert "published" in report
    (note,) = [e for e in published(stack, carol.pubkey) if e["kind"] == 1]
    (meta,) = note["imeta"]
    assert meta["m"] == "video/mp4" and not {"image", "blurhash", "dim"} & set(meta)


def test_a_post_with_many_attachments_decodes_few_placeholders(new_user: UserFactory, stack: Stack) -> None:
    """Placeholders are decoded in the page's Python: a stranger's post with 40 attachments, each with the biggest
    hash there is (9x9), gets the first 4 placeholders and the rest their reserved box only."""
    secret, mallory = keypair(1602)
    bob = new_user()
    bob.follow(nip19.npub_encode(mallory))
    chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
    tags = []
    for n in range(40):
        big = chars[80] + "Q" + "LEHV" + "".join(chars[(n + k) % 83] + chars[k % 19] for k in range(80))
        tags.append(["imeta", f"url {stack.media_url}/{n:064x}.png", "m image/png", "dim 640x480", f"blurhash {big}"])
    event = sign_event({"kind": 1, "tags": tags, "content": "forty pictures", "created_at": int(time.time())}, secret)
    assert relay_publish(stack.relay.url, event)[0]
    bob.show("feed")
    card = bob.post_locator("forty pictures")
    card.wait_for(timeout=30_000)
    eventually(bob.page, "document.querySelectorAll('#feed .post .media img').length === 40")
    seen = card.locator(".media img").evaluate_all(
        "(nodes) => nodes.map((node) => [node.style.aspectRatio, node.style.backgroundImage !== ''])"
    )
    assert [placeholder for _, placeholder in seen] == [True] * 4 + [False] * 36
    assert {ratio for ratio, _ in seen} == {"auto 640 / 480"}
    assert python_errors(bob) == []
