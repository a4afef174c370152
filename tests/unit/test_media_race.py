import pytest
from hypothesis import given
from hypothesis import strategies as st

from asknostr.media_race import HTTP, P2P, P2P_WAIT, TRYING, Race, progress_text, rate_text
from asknostr.peer_kinds import PeerKinds

NONE = PeerKinds()
PERSON = PeerKinds(people=1)


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


def test_a_peer_that_connects_and_sends_nothing_does_not_hold_playback_past_five_seconds() -> None:
    race = Race(started=0.0).peers_changed(2, 1.0)
    assert race.tick(4.9).state == TRYING and race.next_deadline() == 5.0
    assert race.playback(5.0, 4.99).state == TRYING  # while trying, the race's clock decides (the element's runs ahead)
    switched = race.tick(5.0)
    assert switched.state == HTTP and switched.reason == "peers sent nothing in 5 s"


def test_data_over_p2p_plays_over_p2p_while_it_keeps_coming() -> None:
    race = Race(started=0.0, size=1_000_000).peers_changed(1, 1.0).data(16_384, 1.5)
    assert race.state == P2P and race.reason == "data arrived over P2P"
    race = race.playback(1.5, 1.6).data(500_000, 30.0).playback(4.9, 31.0).data(600_000, 34.0).tick(35.9)
    assert race.state == P2P  # bytes came within every window of 5 s
    assert race.tracker_answers({"ws://t": 0}, 1, 35.9).state == P2P  # the tracker is out of date: a peer serves


def test_a_peer_that_sends_one_block_and_stops_gives_way_five_seconds_after_it() -> None:
    race = Race(started=0.0, size=1_000_000).peers_changed(1, 0.5).data(16_384, 1.0)  # one block, then nothing
    assert race.playback(4.9, 5.9).state == P2P  # the window since that block is not over
    switched = race.playback(4.9, 6.0)
    assert switched.state == HTTP and switched.reason == "P2P stalled after 5 s"
    assert switched.received == 16_384  # kept: HTTP fetches only what P2P has not got


def test_waits_while_several_peers_send_faster_than_the_media_plays_keep_p2p() -> None:
    """The issue's viewer: four people sent it the file at ~1 MB/s and it went to HTTP 6.5-12.3 s after play, because
    playback's waits since play added up to 5 s (its start included). Waits alone no longer hand over."""
    race = Race(started=0.0, size=20_000_000).peers_changed(4, 0.5).data(100_000, 2.0).needs(20_000_000, 60.0, 2.5)
    waited = 2.0
    for tenth in range(25, 200):  # 1 MB/s from 2.5 s on, 333 kB/s needed; playback waits a third of the time
        second = tenth / 10
        waited += 0.033
        race = race.data(100_000 + int((second - 2.0) * 1_000_000), second).playback(waited, second)
    assert waited > P2P_WAIT and race.state == P2P, race.reason


def test_p2p_slower_than_playback_needs_gives_way_after_a_whole_window() -> None:
    race = Race(started=0.0).data(100_000, 0.5).needs(10_000_000, 10.0, 0.6)  # 1 MB/s to keep up
    assert race.need_rate == 1_000_000 and race.size == 10_000_000
    race = race.data(2_000_000, 5.4)
    assert race.state == P2P  # 5 s not over
    slow = race.data(2_100_000, 5.5)  # 0.4 MB/s over 5 s
    assert slow.state == HTTP and slow.reason == "P2P too slow: 400 kB/s of 1.0 MB/s"
    fast = Race(started=0.0).needs(1_000_000, 10.0, 0.1).data(1, 0.5)  # 100 kB/s needed
    for second in range(1, 6):
        fast = fast.data(150_000 * second, second + 0.5)  # 150 kB/s
    assert fast.state == P2P and fast.received == 750_000
    # then 50 kB/s: the window slides, so the slow spell is seen once the last 5 s are below the bitrate
    fast = fast.data(800_000, 6.5).data(850_000, 7.5)
    assert fast.state == P2P  # 2.5..7.5: 110 kB/s
    assert fast.data(900_000, 8.5).state == HTTP  # 3.5..8.5: 90 kB/s


def test_without_a_bitrate_a_trickle_hands_over_only_if_playback_waited_all_the_window() -> None:
    trickle = Race(started=0.0, size=10_000_000).data(16_384, 1.0)
    for second in range(2, 7):
        trickle = trickle.data(16_384 * second, second)  # 16 kB/s, the element does not know the duration yet
    assert trickle.state == P2P  # playback does not wait: it has not asked, or has enough
    waiting = Race(started=0.0, size=10_000_000).data(16_384, 1.0)
    for second in range(2, 7):
        waiting = waiting.data(16_384 * second, second).playback(second - 1.0, second)
    assert waiting.state == HTTP and waiting.reason == "P2P too slow: 16 kB/s"


def test_without_a_duration_speed_alone_switches_nothing() -> None:
    race = Race(started=0.0).data(1, 0.5).needs(10_000_000, 0.0, 0.6).data(2, 100.0)
    assert race.state == P2P and race.need_rate == 0
    assert Race(started=0).needs(10, float("inf"), 1).need_rate == 0  # a live stream has no end


def test_p2p_with_the_whole_file_is_kept() -> None:
    race = Race(started=0.0, size=100).data(100, 0.1).playback(30.0, 40.0)
    assert race.state == P2P and race.complete
    assert Race(started=0.0, size=100).data(100, 9).state == P2P  # complete late: no reason to fetch anything


def test_without_an_http_url_p2p_is_kept() -> None:
    race = Race(started=0.0, has_url=False)
    assert race.tick(1000.0).state == TRYING and race.tracker_answers({"ws://t": 0}, 1, 1).state == TRYING
    assert race.next_deadline() is None
    assert race.data(5, 1).playback(100, 100).state == P2P


def test_bad_figures_are_refused_in_plain_words() -> None:
    with pytest.raises(ValueError, match="no negative figure"):
        Race(started=0.0, size=-1)
    with pytest.raises(ValueError, match="cannot be played"):
        Race(started=0.0).needs(10, float("nan"), 1)
    with pytest.raises(ValueError, match="cannot be played"):
        Race(started=0.0).needs(-5, 1, 1)


events = st.lists(
    st.tuples(
        st.sampled_from(["tick", "peers", "data", "tracker", "wait", "needs"]), st.floats(0, 30), st.integers(0, 5)
    ),
    max_size=30,
)


@given(events)
def test_http_is_final_and_playback_never_waits_past_five_seconds(steps: list[tuple[str, float, int]]) -> None:
    race = Race(started=0.0, size=1_000)
    for kind, at, value in sorted(steps, key=lambda s: s[1]):
        before = race
        if kind == "tick":
            race = race.tick(at)
        elif kind == "peers":
            race = race.peers_changed(value, at)
        elif kind == "data":
            race = race.data(value, at)
        elif kind == "wait":
            race = race.playback(min(at, value * 1.5), at)  # playback cannot have waited longer than it has been
        elif kind == "needs":
            race = race.needs(1_000, value, at)
        else:
            race = race.tracker_answers({"ws://t": value}, 1, at)
        if before.state == HTTP:
            assert (race.state, race.reason) == (HTTP, before.reason)  # decisions for HTTP are final
        if race.state == TRYING:
            assert race.received == 0 and at < P2P_WAIT
        if race.state == P2P and not race.complete and race.samples:
            since, then, _ = race.samples[0]
            assert at - since < P2P_WAIT or race.received > then  # P2P never kept after a window of nothing


rates = st.lists(st.tuples(st.floats(0.01, 3.0), st.floats(1.0, 5.0), st.floats(0, 1)), min_size=1, max_size=80)


@given(bitrate=st.integers(1_000, 5_000_000), first=st.floats(0.1, 4.9), steps=rates)
def test_no_handover_while_p2p_keeps_up_over_the_window(
    bitrate: int, first: float, steps: list[tuple[float, float, float]]
) -> None:
    """Every step of `dt` seconds brings at least `bitrate x dt` bytes (`factor` >= 1), so every window's rate is at or
    above the bitrate, however long playback waits: P2P keeps it."""
    size = 10**12
    race = Race(started=0.0, size=size).peers_changed(1, first / 2).data(1, first).needs(size, size / bitrate, first)
    at, received, waited = first, 1.0, 0.0
    for dt, factor, wait_share in steps:
        at += dt
        received += bitrate * dt * factor
        waited += dt * wait_share
        race = race.data(int(received) + 1, at).playback(waited, at).tick(at)
        assert race.state == P2P, (race.reason, at)


def test_progress_text_says_source_peers_and_speed() -> None:
    trying = Race(started=0.0)
    assert progress_text(trying, speed=0, fraction=0, peers=NONE) == "P2P · looking for peers (no peers connected)"
    p2p = trying.peers_changed(2, 1).data(10, 1)
    two = PeerKinds(people=2, from_people=10)
    assert progress_text(p2p, speed=1_500_000, fraction=0.456, peers=two) == "P2P · 2 people · 1.5 MB/s · 46%"
    http = trying.tick(6)
    # the caption says why P2P was not used
    assert progress_text(http, speed=2e6, fraction=1, peers=NONE, done=True) == "HTTP (no peer after 5 s) · complete"
    assert (
        progress_text(http, speed=2e6, fraction=0.5, peers=PERSON)
        == "HTTP (no peer after 5 s) · 1 person · 2.0 MB/s · 50%"
    )
    assert progress_text(Race(started=0, state=HTTP), speed=0, fraction=1, peers=NONE, done=True) == "HTTP · complete"


def test_progress_text_says_when_p2p_and_http_both_served() -> None:
    stalled = Race(started=0.0, size=100).data(25, 1).playback(5, 6)
    text = progress_text(stalled, speed=0, fraction=1, peers=PERSON, done=True, p2p_share=0.25)
    assert text == "P2P 25% + HTTP (P2P stalled after 5 s) · 1 person · complete"
    silent = Race(started=0.0).peers_changed(1, 1).tick(5)
    assert (
        progress_text(silent, speed=1e6, fraction=0.1, peers=PERSON)
        == "HTTP (peers sent nothing in 5 s) · 1 person · 1.0 MB/s · 10%"
    )
    assert rate_text(16_000) == "16 kB/s" and rate_text(2_500_000) == "2.5 MB/s"


def test_a_file_this_device_holds_plays_from_it_and_says_so() -> None:
    race = Race(started=0.0).on_device(1000)
    assert race.state == P2P and race.complete and race.reason == "on this device"
    assert race.tick(60.0).state == P2P  # never handed to HTTP
    assert progress_text(race, speed=0, fraction=1, peers=NONE, done=True) == "On this device"
    assert progress_text(race, speed=0, fraction=1, peers=PERSON, done=True) == "On this device · 1 person connected"
    both = PeerKinds(bridge=True, people=2)
    assert (
        progress_text(race, speed=0, fraction=1, peers=both, done=True)
        == "On this device · the Bridge + 2 people connected"
    )
