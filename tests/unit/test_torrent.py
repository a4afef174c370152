import hashlib
from pathlib import Path
from typing import Any

import libtorrent as lt
import pytest

from bridge.torrent import TorrentError, bad_pieces, build_info, parse_torrent


def test_build_then_parse_round_trips_and_does_not_depend_on_chunking() -> None:
    data = bytes(i % 251 for i in range(100_000))
    whole = build_info([data], "clip.mp4", len(data))
    chunked = build_info([data[i : i + 7777] for i in range(0, len(data), 7777)], "clip.mp4", len(data))
    assert whole == chunked
    assert len(whole.pieces) == 7 and whole.piece_length == 16384
    assert whole.info_hash == hashlib.sha1(whole.info_bytes).hexdigest()
    assert parse_torrent(whole.info_bytes) == whole
    assert parse_torrent(lt.bencode({b"info": lt.bdecode(whole.info_bytes), b"announce": b"ws://t"})) == whole


def test_pieces_are_checked_against_the_torrent(tmp_path: Path) -> None:
    data = bytes(i % 13 for i in range(50_000))
    info = build_info([data], "a.bin", len(data))
    good = tmp_path / "good"
    good.write_bytes(data)
    assert bad_pieces(good, info) == []
    tampered = tmp_path / "tampered"
    tampered.write_bytes(data[:20_000] + b"X" + data[20_001:])
    assert bad_pieces(tampered, info) == [1]
    short = tmp_path / "short"
    short.write_bytes(data[:-1])
    assert bad_pieces(short, info) == [0, 1, 2, 3]


def test_bad_torrents_are_refused_clearly() -> None:
    with pytest.raises(TorrentError, match="bencoded"):
        parse_torrent(b"not bencode")
    info: Any = {b"name": b"x", b"piece length": 16384, b"pieces": b"x" * 20, b"files": []}
    with pytest.raises(TorrentError, match="multi-file"):
        parse_torrent(lt.bencode(info))
    info = {b"length": 40_000, b"name": b"x", b"piece length": 16384, b"pieces": b"x" * 20}
    with pytest.raises(TorrentError, match="piece count"):
        parse_torrent(lt.bencode(info))
    info = {b"length": 10, b"name": b"x", b"piece length": 1000, b"pieces": b"x" * 20}
    with pytest.raises(TorrentError, match="invalid"):
        parse_torrent(lt.bencode(info))
