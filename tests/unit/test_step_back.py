"""The Bridge's step-back policy (bridge.step_back): full speed only while it is a piece's only source."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.step_back import FULL, SHARE, TRICKLE, StepBack, SwarmView, availability


def test_the_only_source_of_a_piece_sends_at_full_speed() -> None:
    policy = StepBack()
    assert policy.mode(SwarmView([], 0)).name == FULL  # nobody connected
    alone = policy.mode(SwarmView([1, 1, 0, 1]))  # a follower lacks piece 2 and nobody else holds it
    assert alone.name == FULL and alone.upload_limit == 0


def test_once_browsers_hold_every_piece_the_bridge_sends_slower_than_they_do() -> None:
    mode = StepBack(share_rate=200_000).mode(SwarmView([1, 2, 1, 1]))
    assert mode.name == SHARE and mode.upload_limit == 200_000
    # the creator's browser, a seed the tracker counts, holds every piece though not connected to the Bridge
    assert StepBack().mode(SwarmView([0, 0, 0], seeds_elsewhere=1)).name == SHARE


def test_a_swarm_that_carries_itself_gets_a_trickle() -> None:
    policy = StepBack(holders=3, trickle_rate=10_000)
    mode = policy.mode(SwarmView([3, 4, 3]))
    assert mode.name == TRICKLE and mode.upload_limit == 10_000
    assert policy.mode(SwarmView([3, 2, 5])).name == SHARE  # piece 1 still rare
    # the tracker's count alone never makes a trickle: announces are free (fake seeds slow the Bridge to its share
    # rate, no further)
    assert policy.mode(SwarmView([0, 1, 1], seeds_elsewhere=11)).name == SHARE
    assert policy.mode(SwarmView([3, 3, 3], seeds_elsewhere=11)).name == TRICKLE


def test_holders_zero_means_the_bridge_never_steps_back() -> None:
    assert StepBack(holders=0).mode(SwarmView([9, 9], seeds_elsewhere=9)).name == FULL


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="step-back"):
        StepBack(holders=-1)
    with pytest.raises(ValueError, match="step-back"):
        StepBack(trickle_rate=0)
    with pytest.raises(ValueError, match="step-back"):
        StepBack(share_rate=1000, trickle_rate=2000)
    with pytest.raises(ValueError, match="no -1 pieces"):
        availability(-1, [])


def test_availability_counts_each_peers_pieces() -> None:
    assert availability(3, [[True, False, True], [True, True, False], []]) == [2, 1, 1]
    assert availability(2, [[True, True, True, True]]) == [1, 1]  # a bitfield's padding bits are not pieces


@given(st.lists(st.integers(0, 20), max_size=50), st.integers(0, 20), st.integers(0, 10))
def test_the_bridge_is_never_held_back_from_a_piece_nobody_else_has(
    counts: list[int], seeds: int, holders: int
) -> None:
    mode = StepBack(holders=holders).mode(SwarmView(counts, seeds))
    sole_source = min([max(c, seeds) for c in counts], default=0) == 0
    if sole_source or holders == 0:
        assert mode.name == FULL and mode.upload_limit == 0
    if mode.name == TRICKLE:
        assert all(c >= holders for c in counts)  # connected peers' pieces, whatever the tracker says
    assert mode.upload_limit == 0 or mode.upload_limit <= StepBack().share_rate
