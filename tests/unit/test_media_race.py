from hypothesis import given
from hypothesis import strategies as st

from asknostr.media_race import HTTP, P2P, TRYING, Race


def test_no_peer_and_no_byte_for_five_seconds_switches_to_http() -> None:
    race = Race(started=100.0)
    assert race.tick(104.9).state == TRYING and race.next_deadline() == 105.0
    switched = race.tick(105.0)
    assert switched.state == HTTP and switched.source == HTTP and "no peer after 5 s" in switched.reason


def test_the_tracker_saying_no_seeder_switches_at_once() -> None:
    race = Race(started=0.0).tracker_answer(0, now=0.3)
    assert race.state == HTTP and "no seeder" in race.reason
    assert Race(started=0.0).peers_changed(1, 0.1).tracker_answer(0, 0.3).state == TRYING  # a peer is here


def test_data_over_p2p_wins_for_good() -> None:
    race = Race(started=0.0).peers_changed(1, 1.0).data(16_384, 1.5)
    assert race.state == P2P and race.tick(100.0).state == P2P and race.tracker_answer(0, 100).state == P2P


def test_peers_that_send_nothing_are_given_up_later() -> None:
    race = Race(started=0.0).peers_changed(2, 1.0)
    assert race.tick(10.0).state == TRYING and race.next_deadline() == 15.0
    assert race.tick(15.0).state == HTTP


def test_without_an_http_url_p2p_is_kept() -> None:
    race = Race(started=0.0, has_url=False)
    assert race.tick(1000.0).state == TRYING and race.tracker_answer(0, 1).state == TRYING
    assert race.next_deadline() is None


events = st.lists(
    st.tuples(st.sampled_from(["tick", "peers", "data", "tracker"]), st.floats(0, 30), st.integers(0, 5)),
    max_size=30,
)


@given(events)
def test_http_is_never_chosen_after_p2p_data(steps: list[tuple[str, float, int]]) -> None:
    race = Race(started=0.0)
    got_data = False
    for kind, at, value in sorted(steps, key=lambda s: s[1]):
        before = race.state
        if kind == "tick":
            race = race.tick(at)
        elif kind == "peers":
            race = race.peers_changed(value, at)
        elif kind == "data":
            race = race.data(value, at)
        else:
            race = race.tracker_answer(value, at)
        if before in (P2P, HTTP):
            assert race.state == before  # decisions are final
        got_data = got_data or (kind == "data" and value > 0 and before == TRYING)
        if got_data:
            assert race.state == P2P
