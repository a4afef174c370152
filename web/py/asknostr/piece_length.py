"""How long a torrent's pieces are (BEP 3 `piece length`), chosen when a file is first seeded.

WebTorrent's own choice (npm create-torrent's: about 1024 pieces, a power of two from 16 KiB to 4 MiB) gives every
file under 22 MiB pieces of 16 KiB. Between two browsers that moves 0.2x what one raw data channel carries, where
pieces of 256 KiB reach 0.8x-1x (bench/p2p_throughput.py): each piece is a round of requests, a hash and a store
write. So the app seeds in pieces of at least 256 KiB. A file of a few KiB is then one piece, which costs nothing.

A torrent's piece length is part of its infoHash: a file seeded again must use the length it was first seeded with
(the app keeps each kept file's .torrent), and a copy that came over HTTP is checked against both rules, since other
clients (and posts made before this rule) use create-torrent's.
"""

from __future__ import annotations

import math

MIN_PIECE = 16 * 1024
MAX_PIECE = 4 * 1024 * 1024
APP_MIN_PIECE = 256 * 1024


def create_torrent_default(size: int) -> int:
    """npm create-torrent's rule (WebTorrent's default): `max(16384, 1 << round(log2(size / 1024)))`, at most 4 MiB."""
    if size < 1024:
        return MIN_PIECE
    exponent = math.floor(math.log2(size / 1024) + 0.5)
    return min(max(MIN_PIECE, 1 << exponent), MAX_PIECE)


def for_size(size: int) -> int:
    """The app's piece length for a file of `size` bytes: create-torrent's, but at least 256 KiB."""
    return max(APP_MIN_PIECE, create_torrent_default(size))


def candidates(size: int) -> list[int]:
    """The piece lengths a post's torrent of `size` bytes may have, most likely first (the app's, then others')."""
    return list(dict.fromkeys([for_size(size), create_torrent_default(size)]))
