"""asknostr.piece_length: WebTorrent's rule, the app's, and the lengths a post's torrent may have."""

from __future__ import annotations

from asknostr.piece_length import candidates, create_torrent_default, for_size


def test_piece_length_follows_create_torrent() -> None:
    piece_length = create_torrent_default
    assert piece_length(0) == piece_length(1000) == 16384
    assert piece_length(1024 * 1024 + 12_345) == 16384  # ~1 MiB / 1024 = 1 KiB, clamped up
    assert piece_length(20 * 1024 * 1024) == 16384  # log2(20480) = 14.3 rounds to 14
    assert piece_length(22 * 1024 * 1024) == 16384  # log2(22528) = 14.46: pieces double from 2^14.5 KiB (22.6 MiB)
    assert piece_length(23 * 1024 * 1024) == 32768
    assert piece_length(32 * 1024 * 1024) == 32768
    assert piece_length(100 * 1024 * 1024) == 128 * 1024
    assert piece_length(50 * 1024**3) == 4 * 1024 * 1024


def test_the_app_seeds_in_pieces_of_at_least_256_kib_and_recognises_both_rules() -> None:
    assert for_size(0) == for_size(50_000) == for_size(20 * 1024 * 1024) == 256 * 1024
    assert for_size(1024**3) == create_torrent_default(1024**3) == 1024 * 1024  # large files: create-torrent's
    assert candidates(50_000) == [256 * 1024, 16384]
    assert candidates(1024**3) == [1024 * 1024]
