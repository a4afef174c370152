"""A short WebM clip recorded by Chromium itself (a canvas drawn in the page, MediaRecorder, VP8): no encoder on the
machine. Used by the end-to-end tests, tools/screenshots.py and the benchmarks; each gives what is drawn."""

from __future__ import annotations

import base64
from collections.abc import Sequence
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
