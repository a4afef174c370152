import pytest
from hypothesis import given
from hypothesis import strategies as st

from asknostr.http_ranges import held_bytes, merge, missing, next_fetch, pieces, still_wanted

KIB = 1024


def test_pieces_p2p_has_become_byte_ranges() -> None:
    assert pieces("1101", 256 * KIB, 900 * KIB) == [(0, 512 * KIB), (768 * KIB, 900 * KIB)]  # last piece short
    assert pieces("", 256 * KIB, 900 * KIB) == []  # no metadata yet: no piece
    with pytest.raises(ValueError, match="more than a file"):
        pieces("11111", 256 * KIB, 900 * KIB)
    with pytest.raises(ValueError, match="no pieces of 0 bytes"):
        pieces("1", 0, 10)


def test_merge_joins_what_touches() -> None:
    assert merge([(10, 20), (0, 10), (30, 40), (35, 50), (60, 60)]) == [(0, 20), (30, 50)]
    with pytest.raises(ValueError, match="before the file"):
        merge([(-1, 5)])


def test_missing_is_what_neither_source_holds() -> None:
    assert missing(100, [(0, 10), (50, 60)]) == [(10, 50), (60, 100)]
    assert missing(100, []) == [(0, 100)] and missing(100, [(0, 200)]) == []
    assert held_bytes(100, [(0, 10), (5, 30), (90, 120)]) == 40


def test_a_peer_that_stalled_after_the_first_piece_leaves_http_the_rest() -> None:
    size, piece = 2_000_000, 256 * KIB
    held = pieces("1", piece, size)
    assert next_fetch(size, held, position=piece) == (piece, size)  # the first piece is not asked for again


def test_playback_position_first_then_the_gaps_before_it() -> None:
    held = [(0, 100), (300, 400)]
    assert next_fetch(1000, held, position=350, chunk=10_000) == (400, 1000)
    assert next_fetch(1000, [*held, (400, 1000)], position=350) == (100, 300)  # then what playback skipped
    assert next_fetch(1000, held, position=150) == (150, 300)  # never into bytes P2P has
    assert next_fetch(1000, [(0, 1000)], position=0) is None
    assert next_fetch(0, [], position=0) is None  # an empty file is whole


def test_a_fetch_is_at_most_a_chunk_so_new_pieces_and_seeks_are_seen_between_two() -> None:
    assert next_fetch(100 * KIB, [], position=0, chunk=16 * KIB) == (0, 16 * KIB)


def test_a_seek_away_from_the_answer_under_way_ends_it() -> None:
    assert still_wanted((0, 4000), at=1000, waiting=None)  # playback has what it needs for now
    assert still_wanted((0, 4000), at=1000, waiting=3999)  # it will come with this answer
    assert not still_wanted((0, 4000), at=1000, waiting=9000)  # a seek further on
    assert not still_wanted((0, 4000), at=1000, waiting=500)  # a seek back, to bytes this answer has passed


def test_bad_plans_are_refused_in_plain_words() -> None:
    with pytest.raises(ValueError, match="cannot have reached byte 5"):
        still_wanted((10, 20), at=5, waiting=None)
    with pytest.raises(ValueError, match="playback reads at byte 11 of a file of 10 bytes"):
        next_fetch(10, [], position=11)
    with pytest.raises(ValueError, match="cannot plan"):
        next_fetch(10, [], position=0, chunk=0)


@given(
    st.integers(1, 5_000),
    st.lists(st.tuples(st.integers(0, 5_000), st.integers(0, 600)), max_size=8),
    st.integers(0, 5_000),
    st.integers(100, 2_000),
)
def test_fetching_the_plan_makes_the_file_whole_without_fetching_a_held_byte(
    size: int, spans: list[tuple[int, int]], position: int, chunk: int
) -> None:
    held = merge((start, start + length) for start, length in spans)
    got = list(held)
    position = min(position, size)
    for _ in range(size + 1):
        planned = next_fetch(size, got, position, chunk)
        if planned is None:
            break
        start, end = planned
        assert 0 <= start < end <= min(size, start + chunk)
        assert all(end <= s or start >= e for s, e in got)  # nothing held is fetched again
        got.append(planned)
        position = end if end < size else 0
    assert missing(size, got) == []
