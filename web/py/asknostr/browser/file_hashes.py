"""A picked file's SHA-256 (Blossom `x`), computed in a worker that reads the file in slices (static/js/hashing.js):
never the whole file in memory, and the page stays responsive. Its torrent piece hashes for the app's piece length
come in the same pass, so seeding the file next (torrents.seed) reads none of it again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyscript.ffi import create_proxy
from pyscript.js_modules import file_probe

from asknostr import piece_length


async def sha256(file: Any, progress: Callable[[int], None]) -> str:
    """64 lowercase hex; `progress(bytes)` as the file is read, up to its size."""
    proxy = create_proxy(lambda done: progress(int(done)))  # called after this call returns: not a borrowed proxy
    try:
        hashed = await file_probe.hashes(file, piece_length.for_size(int(file.size)), proxy)
    finally:
        proxy.destroy()
    return str(hashed.sha256)
