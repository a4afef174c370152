"""The health panel's uploaded total (asknostr.upload_tally): across reloads and torrents let go."""

from __future__ import annotations

from asknostr.upload_tally import UploadTally

A, B = "a" * 40, "b" * 40


def test_the_total_adds_earlier_pages_to_what_this_page_counts() -> None:
    tally = UploadTally(before=1000).update({A: 10, B: 5}).update({A: 30, B: 5})
    assert tally.total == 1035


def test_a_torrent_let_go_keeps_its_bytes_in_the_total_and_one_added_again_counts_anew() -> None:
    tally = UploadTally().update({A: 50, B: 7}).update({B: 9})
    assert tally.total == 59
    assert tally.update({A: 4, B: 9}).total == 63


def test_a_counter_never_takes_bytes_back() -> None:
    assert UploadTally().update({A: 50}).update({A: 20}).total == 50
    assert UploadTally().update({A: -5}).total == 0
