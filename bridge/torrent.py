"""Torrents as WebTorrent makes them: v1 single-file info dicts, infoHash, piece checks (magnet links: asknostr.magnet).

The browser (webtorrent / create-torrent) seeds a file under an info dict `{length, name, piece length, pieces}`;
the Bridge must reach the very same infoHash to join that swarm, and must check every piece of what it downloads
against the torrent before seeding it. Bencoding is libtorrent's (the Bridge seeds with libtorrent).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libtorrent as lt

from asknostr import piece_length


class TorrentError(ValueError):
    """A torrent or file that is not what it claims; the message says what."""


@dataclass(frozen=True)
class TorrentInfo:
    info_hash: str
    name: str
    length: int
    piece_length: int
    pieces: tuple[bytes, ...]
    info_bytes: bytes  # the bencoded info dict, exactly as hashed

    def piece_size(self, index: int) -> int:
        return min(self.piece_length, self.length - index * self.piece_length)


def _info_from_dict(info: dict[bytes, Any], info_bytes: bytes) -> TorrentInfo:
    if b"files" in info:
        raise TorrentError("multi-file torrents are not supported: one post, one file")
    try:
        length, size, name, pieces = info[b"length"], info[b"piece length"], info[b"name"], info[b"pieces"]
    except KeyError as exc:
        raise TorrentError(f"info dict lacks {exc.args[0].decode()!r}") from None
    if not (
        isinstance(length, int) and isinstance(size, int) and isinstance(name, bytes) and isinstance(pieces, bytes)
    ):
        raise TorrentError("info dict fields have the wrong types")
    if length < 0 or size <= 0 or size & (size - 1) or len(pieces) % 20:
        raise TorrentError("info dict has an invalid length, piece length or pieces string")
    if len(pieces) // 20 != max(1, math.ceil(length / size)):
        raise TorrentError("info dict's piece count does not fit its length")
    text = name.decode(errors="replace")
    if not text or text in (".", "..") or "/" in text or "\\" in text or "\0" in text:
        raise TorrentError("torrent name must be a plain file name")
    digests = tuple(pieces[i : i + 20] for i in range(0, len(pieces), 20))
    return TorrentInfo(
        hashlib.sha1(info_bytes).hexdigest(), name.decode(errors="replace"), length, size, digests, info_bytes
    )


def parse_torrent(data: bytes) -> TorrentInfo:
    """A .torrent file (`{info: …}`) or a bare bencoded info dict."""
    try:
        decoded = lt.bdecode(data)
    except Exception:
        decoded = None
    if not isinstance(decoded, dict):
        raise TorrentError("not bencoded data")
    info: Any = decoded.get(b"info", decoded)  # type: ignore[call-overload]
    if not isinstance(info, dict):
        raise TorrentError("torrent has no info dict")
    parsed = _info_from_dict(info, bytes(lt.bencode(info)))
    if parsed.length == 0:
        raise TorrentError("the torrent's file is empty")
    try:  # libtorrent seeds it: what it refuses (a piece length past its limit…) is refused here, not later
        lt.torrent_info({b"info": info})  # type: ignore[call-overload]  # stubs lack it
    except RuntimeError as exc:
        raise TorrentError(f"the torrent is not one libtorrent can seed: {exc}") from None
    return parsed


def build_info(chunks: Iterable[bytes], name: str, length: int, piece: int | None = None) -> TorrentInfo:
    """The info dict WebTorrent makes for this content (v1, one file), from its bytes in any chunking; pieces of
    `piece` bytes, or of WebTorrent's default length."""
    size = piece or piece_length.create_torrent_default(length)
    digests: list[bytes] = []
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            digests.append(hashlib.sha1(buffer[:size]).digest())
            buffer = buffer[size:]
    if buffer or not digests:
        digests.append(hashlib.sha1(buffer).digest())
    info: Any = {b"length": length, b"name": name.encode(), b"piece length": size, b"pieces": b"".join(digests)}
    info_bytes = bytes(lt.bencode(info))
    return _info_from_dict(info, info_bytes)


def bad_pieces(path: Path, info: TorrentInfo) -> list[int]:
    """Indexes of the pieces of the file at `path` whose sha1 is not the torrent's (a wrong length: all)."""
    if path.stat().st_size != info.length:
        return list(range(len(info.pieces)))
    bad = []
    with path.open("rb") as f:
        for index, expected in enumerate(info.pieces):
            if hashlib.sha1(f.read(info.piece_size(index))).digest() != expected:
                bad.append(index)
    return bad
