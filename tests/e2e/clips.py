"""A short WebM clip recorded by Chromium itself (a canvas drawn in the page, MediaRecorder, VP8): no encoder on the
machine. Used by the end-to-end tests, tools/screenshots.py and the benchmarks; each gives what is drawn."""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

# `DRAW` is replaced by the body of a function drawing one frame, which sees: `c` (the canvas' 2D context), `width`,
# `height`, `ms` (the clip's length), `elapsed` (ms since the first frame) and `args`. It is drawn every 1/fps s.
RECORD = """async ([width, height, ms, fps, bitrate, args]) => {
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const c = canvas.getContext('2d')
  const started = performance.now()
  const draw = () => {
    const elapsed = performance.now() - started
    DRAW
  }
  draw()
  const options = { mimeType: 'video/webm;codecs=vp8' }
  if (bitrate) options.videoBitsPerSecond = bitrate
  const recorder = new MediaRecorder(canvas.captureStream(fps), options)
  const chunks = []
  recorder.ondataavailable = (event) => chunks.push(event.data)
  const timer = setInterval(draw, 1000 / fps)
  recorder.start()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const stopped = new Promise((resolve) => { recorder.onstop = resolve })
  recorder.stop()
  await stopped
  clearInterval(timer)
  const reader = new FileReader()
  const url = await new Promise((resolve) => {
    reader.onload = () => resolve(reader.result)
    reader.readAsDataURL(new Blob(chunks))
  })
  return url.slice(url.indexOf(',') + 1)
}"""


# Rectangles of many colours moving: a clip that does not compress to nothing (about 2 Mbit/s at 8 Mbit/s asked)
NOISE = """const t = elapsed / 1000
    for (let i = 0; i < 40; i++) {
      c.fillStyle = `hsl(${(i * 37 + t * 200) % 360} 80% ${30 + (i * 13) % 50}%)`
      c.fillRect((i * 97 + t * 300) % width, (i * 53 + t * 170) % height, 40 + i % 60, 30 + i % 45)
    }"""


def record_clip(
    page: Page,
    draw: str,
    width: int,
    height: int,
    ms: int,
    *,
    fps: int = 25,
    bitrate: int | None = None,
    args: Sequence[Any] = (),
) -> bytes:
    """The bytes of a WebM of `ms` milliseconds at `fps` frames a second, `width` x `height`, recorded in `page`:
    each frame drawn by `draw` (JS statements, see RECORD) with `args`. `bitrate`: the encoder's target in bit/s
    (Chromium's default when None)."""
    script = RECORD.replace("DRAW", draw)
    return base64.b64decode(page.evaluate(script, [width, height, ms, fps, bitrate, list(args)]))


# WebM (Matroska) element IDs, with their length markers, as they appear in the file
SEGMENT, INFO, CLUSTER, TIMECODE, DURATION = 0x18538067, 0x1549A966, 0x1F43B675, 0xE7, 0x4489
SIMPLE_BLOCK, BLOCK_GROUP, BLOCK = 0xA3, 0xA0, 0xA1
SEEK_HEAD, CUES = 0x114D9B74, 0x1C53BB6B  # where things are in the clip: left out of the film
UNKNOWN_SIZE = b"\x01\xff\xff\xff\xff\xff\xff\xff"


def _vint(data: bytes, at: int, *, marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at `at`: its value (with its length marker for IDs) and where it ends;
    -1 for a size of all ones (unknown)."""
    first = data[at]
    length = 9 - first.bit_length()
    value = int.from_bytes(data[at : at + length], "big")
    if not marker:
        value &= (1 << (7 * length)) - 1
        if value == (1 << (7 * length)) - 1:
            value = -1
    return value, at + length


def _block(data: bytes, element_id: int, at: int, length: int) -> int:
    """Where the Block of a SimpleBlock or BlockGroup at `at` begins; -1 for other elements."""
    if element_id == SIMPLE_BLOCK:
        return at
    if element_id == BLOCK_GROUP:
        inner = at
        while inner < at + length:
            child_id, child_at = _vint(data, inner, marker=True)
            child_length, child_at = _vint(data, child_at, marker=False)
            if child_id == BLOCK:
                return child_at
            inner = child_at + child_length
    return -1


def _element(element_id: int, body: bytes) -> bytes:
    return (
        element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + (1 << 56 | len(body)).to_bytes(8, "big") + body
    )


def write_film(path: Path, clip: bytes, size: int, fps: int = 25) -> tuple[str, int]:
    """A WebM of at least `size` bytes made of `clip` (a MediaRecorder WebM) played over and over: its clusters
    repeated with later timecodes, and a Duration to match. A long film of the clip's bitrate, which a player reads
    no faster than it plays (random bytes after the clip would make Chromium read the whole file at once, hunting for
    the next cluster). Its SHA-256 and size."""
    header_length, header_body = _vint(clip, _vint(clip, 0, marker=True)[1], marker=False)
    header_end = header_body + header_length  # the EBML header, as it is
    segment_id, at = _vint(clip, header_end, marker=True)
    assert segment_id == SEGMENT, "not a WebM"
    _, at = _vint(clip, at, marker=False)
    head: list[bytes] = []  # the Segment's elements before the first Cluster but Info
    info_body = b""
    clusters: list[tuple[int, bytes]] = []  # (timecode, the cluster's elements but its Timecode)
    end_ms = 0
    while at < len(clip):
        element_id, body_at = _vint(clip, at, marker=True)
        length, body_at = _vint(clip, body_at, marker=False)
        if element_id != CLUSTER:
            if element_id == INFO:
                info_body = clip[body_at : body_at + length]
            elif element_id not in (SEEK_HEAD, CUES):
                head.append(clip[at : body_at + length])
            at = body_at + length
            continue
        stop = len(clip) if length < 0 else body_at + length
        timecode, rest, inner = 0, b"", body_at
        while inner < stop:
            child_id, child_at = _vint(clip, inner, marker=True)
            if length < 0 and child_id == CLUSTER:
                break
            child_length, child_at = _vint(clip, child_at, marker=False)
            if child_id == TIMECODE:
                timecode = int.from_bytes(clip[child_at : child_at + child_length], "big")
            else:
                rest += clip[inner : child_at + child_length]
                block_at = _block(clip, child_id, child_at, child_length)
                if block_at >= 0:  # a block: its track number, then its time from the cluster's, 16 bits signed
                    block_at = _vint(clip, block_at, marker=False)[1]
                    relative = int.from_bytes(clip[block_at : block_at + 2], "big", signed=True)
                    end_ms = max(end_ms, timecode + relative + 1000 // fps)
            inner = child_at + child_length
        clusters.append((timecode, rest))
        at = inner
    repeats = max(1, -(-size // max(1, sum(len(rest) + 25 for _, rest in clusters))))
    # Info, its Duration the whole film's (in ms: the clip's TimecodeScale is MediaRecorder's 1 ms)
    kept = b""
    inner = 0
    while inner < len(info_body):
        child_id, child_at = _vint(info_body, inner, marker=True)
        child_length, child_at = _vint(info_body, child_at, marker=False)
        if child_id != DURATION:
            kept += info_body[inner : child_at + child_length]
        inner = child_at + child_length
    duration = DURATION.to_bytes(2, "big") + b"\x88" + struct.pack(">d", float(end_ms * repeats))
    head.insert(0, _element(INFO, kept + duration))
    digest = hashlib.sha256()
    written = 0
    with path.open("wb") as out:

        def put(data: bytes) -> None:
            nonlocal written
            out.write(data)
            digest.update(data)
            written += len(data)

        put(clip[:header_end] + SEGMENT.to_bytes(4, "big") + UNKNOWN_SIZE + b"".join(head))
        for repeat in range(repeats):
            for timecode, rest in clusters:
                shifted = timecode + repeat * end_ms
                put(_element(CLUSTER, _element(TIMECODE, shifted.to_bytes(4, "big")) + rest))
    return digest.hexdigest(), written
