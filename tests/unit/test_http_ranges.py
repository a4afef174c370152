import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asknostr.http_ranges import PARALLEL, held_bytes, merge, missing, next_fetch, pieces, plan, should_stop

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


def test_a_range_ends_on_a_piece_end_so_no_piece_is_left_half_to_p2p() -> None:
    piece = 256 * KIB
    assert next_fetch(10 * piece, [], position=100, chunk=piece + 5, piece_length=piece) == (100, piece)
    assert next_fetch(10 * piece, [], position=100, chunk=50, piece_length=piece) == (100, piece)  # at least to one
    assert next_fetch(piece + 7, [], position=0, piece_length=piece) == (0, piece + 7)  # the file's end
    assert next_fetch(10 * piece, [(300, 10 * piece)], position=100, piece_length=piece) == (100, 300)  # held: no


def test_one_answer_at_a_time_while_playback_has_what_it_needs() -> None:
    assert plan(10_000, [], [], position=0, waiting=None, chunk=4000) == (0, 4000)  # none under way: in order
    assert plan(10_000, [(0, 1000)], [(1000, 4000)], position=900, waiting=None, chunk=4000) is None
    assert plan(10_000, [(0, 1000)], [(1000, 4000)], position=1000, waiting=1000, chunk=4000) is None  # on its way
    assert plan(10_000, [(0, 4000)], [], position=4000, waiting=4000, chunk=4000) == (4000, 8000)


def test_a_seek_gets_an_answer_beside_the_one_under_way_which_is_not_stopped() -> None:
    under_way = [(1000, 4000)]  # bytes 1000..3999 still to come: nobody holds them, so the answer goes on
    assert not should_stop((1000, 4000), [(0, 1000)])
    assert plan(10_000, [(0, 1000)], under_way, position=9000, waiting=9000, chunk=4000) == (9000, 10_000)
    assert plan(10_000, [(0, 1000)], under_way, position=500, waiting=500, chunk=4000) is None  # held already
    # a seek to bytes just before an answer under way: asked for up to where that answer starts, not into it
    assert plan(10_000, [], [(6000, 8000)], position=5000, waiting=5000, chunk=4000) == (5000, 6000)
    # at most PARALLEL answers: a third seek waits for one of them to end
    both = [(1000, 4000), (9000, 10_000)][:PARALLEL]
    assert plan(10_000, [], both, position=6000, waiting=6000, chunk=4000) is None


def test_pieces_p2p_is_fetching_are_left_to_it_while_anything_else_is_missing() -> None:
    busy = [(4000, 5000)]  # a piece a peer was asked for: taken from it, what it sent of it would come twice
    assert plan(10_000, [(0, 4000)], [], position=4000, waiting=None, chunk=8000, p2p_busy=busy) == (5000, 10_000)
    assert plan(10_000, [(0, 4000), (5000, 10_000)], [], position=0, waiting=None, p2p_busy=busy) == (4000, 5000)
    assert plan(10_000, [(0, 4000)], [], position=4000, waiting=4200, chunk=500, p2p_busy=busy) == (4000, 4500)
    # beside an answer under way: a seek into P2P's piece is served, one before it stops at it
    assert plan(10_000, [], [(0, 1000)], position=4500, waiting=4500, p2p_busy=busy) == (4500, 10_000)
    assert plan(10_000, [], [(0, 1000)], position=3000, waiting=3000, p2p_busy=busy) == (3000, 4000)


def test_a_server_without_ranges_gets_no_second_request_while_its_whole_file_comes() -> None:
    assert plan(10_000, [(0, 100)], [(100, 10_000)], position=0, waiting=5000, ranged=False) is None


def test_an_answer_stops_only_once_everything_it_still_has_to_bring_is_held() -> None:
    assert should_stop((2000, 4000), [(0, 1000), (2000, 3000), (3000, 4096)])  # P2P verified the rest meanwhile
    assert not should_stop((2000, 4000), [(2000, 3999)])
    assert should_stop((4000, 4000), [])  # nothing left to bring


def test_bad_plans_are_refused_in_plain_words() -> None:
    with pytest.raises(ValueError, match=r"cannot have 20\.\.9 still to come"):
        should_stop((20, 10), [])
    with pytest.raises(ValueError, match="waits for byte 10 of a file of 10 bytes"):
        plan(10, [], [(0, 5)], position=0, waiting=10)
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


@settings(deadline=None)  # up to thousands of plans an example: slow on a loaded machine
@given(
    st.integers(1, 5_000),
    st.lists(st.tuples(st.integers(0, 5_000), st.integers(0, 600)), max_size=8),
    st.lists(st.integers(0, 5_000), max_size=6),
    st.integers(100, 2_000),
    st.integers(1, 700),
)
def test_answers_side_by_side_never_ask_for_a_byte_twice_and_make_the_file_whole(
    size: int, spans: list[tuple[int, int]], seeks: list[int], chunk: int, step: int
) -> None:
    """Answers come `step` bytes at a time, and playback seeks now and then (waits at a byte): what is asked for
    never overlaps what is held or asked for already, and the file ends whole."""
    held = merge((start, start + length) for start, length in spans)
    asked: list[tuple[int, int]] = []
    under_way: list[list[int]] = []  # [at, end]
    seeks = [min(seek, size - 1) for seek in seeks]
    for _ in range(4 * size + 10):
        waiting = seeks.pop() if seeks else None
        position = waiting if waiting is not None else 0
        if waiting is not None and any(s <= waiting < e for s, e in merge([*held, *asked])):
            waiting = None
        planned = plan(size, held + asked, [(a, e) for a, e in under_way], position, waiting, chunk=chunk,
                       piece_length=chunk // 2 + 1)  # fmt: skip
        if planned is not None:
            start, end = planned
            assert 0 <= start < end <= size
            assert all(end <= s or start >= e for s, e in [*held, *asked])  # nothing held or asked for is asked for
            assert end - start <= chunk + chunk // 2 + 1  # a chunk, to a piece's end at most
            asked.append(planned)
            under_way.append([start, end])
        elif not under_way:
            break
        for answer in under_way:
            answer[0] = min(answer[1], answer[0] + step)
        under_way = [a for a in under_way if a[0] < a[1]]
    assert missing(size, [*held, *asked]) == [] and not under_way
