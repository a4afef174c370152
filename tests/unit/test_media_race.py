from hypothesis import given
from hypothesis import strategies as st

from asknostr.media_race import HTTP, P2P, TRYING, Race, progress_text


def test_no_peer_and_no_byte_for_five_seconds_switches_to_http() -> None:
    race = Race(started=100.0)
    assert race.tick(104.9).state == TRYING and race.next_deadline() == 105.0
    switched = race.tick(105.0)
    assert switched.state == HTTP and switched.source == HTTP and "no peer after 5 s" in switched.reason


def test_the_tracker_saying_no_seeder_switches_at_once() -> None:
    race = Race(started=0.0).tracker_answers({"ws://t": 0}, 1, now=0.3)
    assert race.state == HTTP and "no seeder" in race.reason
    assert Race(started=0.0).peers_changed(1, 0.1).tracker_answers({"ws://t": 0}, 1, 0.3).state == TRYING  # a peer


def test_every_tracker_must_say_no_seeder() -> None:
    race = Race(started=0.0)
    assert race.tracker_answers({"ws://a": 0}, 2, 0.3).state == TRYING  # the other one has not answered
    assert race.tracker_answers({"ws://a": 0, "ws://b": 1}, 2, 0.3).state == TRYING  # b knows a seeder
    assert race.tracker_answers({"ws://a": 0, "ws://b": 0}, 2, 0.3).state == HTTP
    assert race.tracker_answers({}, 0, 0.3).state == TRYING  # no tracker at all: the 5-second rule


def test_data_over_p2p_wins_for_good() -> None:
    race = Race(started=0.0).peers_changed(1, 1.0).data(16_384, 1.5)
    assert (
        race.state == P2P and race.tick(100.0).state == P2P and race.tracker_answers({"ws://t": 0}, 1, 100).state == P2P
    )


def test_peers_that_send_nothing_are_given_up_later() -> None:
    race = Race(started=0.0).peers_changed(2, 1.0)
    assert race.tick(10.0).state == TRYING and race.next_deadline() == 15.0
    assert race.tick(15.0).state == HTTP


def test_without_an_http_url_p2p_is_kept() -> None:
    race = Race(started=0.0, has_url=False)
    assert race.tick(1000.0).state == TRYING and race.tracker_answers({"ws://t": 0}, 1, 1).state == TRYING
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
            race = race.tracker_answers({"ws://t": value}, 1, at)
        if before in (P2P, HTTP):
            assert race.state == before  # decisions are final
        got_data = got_data or (kind == "data" and value > 0 and before == TRYING)
        if got_data:
            assert race.state == P2P


def test_progress_text_says_source_peers_and_speed() -> None:
    trying = Race(started=0.0)
    assert progress_text(trying, speed=0, fraction=0, peers=0) == "P2P · looking for peers (0 connected)"
    p2p = trying.peers_changed(2, 1).data(10, 1)
    assert progress_text(p2p, speed=1_500_000, fraction=0.456, peers=2) == "P2P · 2 peers · 1.5 MB/s · 46%"
    http = trying.tick(6)
    # the caption says why P2P was not used
    assert progress_text(http, speed=2e6, fraction=1, peers=0, done=True) == "HTTP (no peer after 5 s) · complete"
    assert progress_text(http, speed=2e6, fraction=0.5, peers=1) == "HTTP (no peer after 5 s) · 1 peer · 2.0 MB/s · 50%"
    assert progress_text(Race(started=0, state=HTTP), speed=0, fraction=1, peers=0, done=True) == "HTTP · complete"
