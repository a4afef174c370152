import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.rate_limit import RateLimiter
from bridge.swarm_health import (
    Failure,
    HandoffPolicy,
    HeartbeatError,
    Observed,
    Proof,
    ProofBook,
    Report,
    claimed_seeders,
    parse_heartbeat,
    proven_seeders,
    tracker_seeders_besides_us,
)

H1, H2 = "a" * 40, "b" * 40
DAY = 24 * 3600


def test_a_heartbeat_parses_to_reports_with_duplicates_merged() -> None:
    body = {"torrents": [{"info_hash": H1.upper(), "seeders": 3}, {"info_hash": H2}, {"info_hash": H1, "seeders": 4}]}
    assert parse_heartbeat(body) == [Report(H1, 4), Report(H2, 0)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "body must be JSON"),
        ({"torrents": {}}, "body must be JSON"),
        ({"torrents": ["x"]}, "torrents[0] must be an object"),
        ({"torrents": [{"info_hash": "zz" * 20}]}, "40 hex digits"),
        ({"torrents": [{"info_hash": H1[:-1]}]}, "40 hex digits"),
        ({"torrents": [{"info_hash": H1, "seeders": -1}]}, "integer from 0"),
        ({"torrents": [{"info_hash": H1, "seeders": True}]}, "integer from 0"),
        ({"torrents": [{"info_hash": H1, "seeders": 1.5}]}, "integer from 0"),
        ({"torrents": [{"info_hash": H1, "seeders": 10**9}]}, "integer from 0"),
        ({"torrents": [{"info_hash": H1}] * 1001}, "at most 1000"),
    ],
)
def test_malformed_heartbeats_are_refused_with_the_reason(body: object, reason: str) -> None:
    with pytest.raises(HeartbeatError, match=re.escape(reason)):
        parse_heartbeat(body)


@given(
    voters=st.integers(0, 10_000),
    connected=st.integers(0, 10_000),
    tracker=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_claimed_seeders_never_exceed_voters_nor_what_the_bridge_sees(
    voters: int, connected: int, tracker: int | None
) -> None:
    observed = Observed(connected, tracker)
    active = claimed_seeders(voters, observed)
    assert 0 <= active <= voters
    assert active <= max(connected, tracker or 0)
    assert active == min(voters, observed.seeders)


def test_one_key_claiming_a_hundred_seeders_counts_once() -> None:
    assert claimed_seeders(1, Observed(0, 100)) == 1  # one voter (bridge.db keeps one vote per key)


def test_the_bridge_does_not_count_itself_in_the_scrape() -> None:
    assert tracker_seeders_besides_us(12, we_announce=True) == 11
    assert tracker_seeders_besides_us(12, we_announce=False) == 12
    assert tracker_seeders_besides_us(0, we_announce=True) == 0


@pytest.mark.parametrize(
    ("age", "active", "expected"),
    [(DAY + 1, 11, True), (DAY + 1, 10, False), (DAY, 11, False), (DAY - 1, 500, False), (10 * DAY, 0, False)],
)
def test_handoff_needs_more_than_x_seeders_and_more_than_a_day(age: int, active: int, expected: bool) -> None:
    assert HandoffPolicy().hand_off(created=1000, now=1000 + age, active=active) is expected


def test_handoff_thresholds_are_configurable() -> None:
    assert HandoffPolicy(min_seeders=2, min_age=60).hand_off(created=0, now=61, active=3)


def test_rate_limiter_allows_a_burst_then_one_per_interval() -> None:
    limiter = RateLimiter(per_minute=6, burst=2)
    assert limiter.allow("k", 0) == 0 and limiter.allow("k", 0) == 0
    assert limiter.allow("k", 0) == pytest.approx(10)  # one token every 10 s
    assert limiter.allow("other", 0) == 0  # keys are independent
    assert limiter.allow("k", 10) == 0
    assert limiter.allow("k", 10) > 0
    assert RateLimiter(per_minute=0, burst=0).allow("k", 0) == 0  # 0: unlimited


@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=200))
def test_rate_limiter_never_grants_more_than_burst_plus_rate_times_time(times: list[float]) -> None:
    limiter = RateLimiter(per_minute=60, burst=5)
    times.sort()
    granted = sum(1 for t in times if limiter.allow("k", t) == 0)
    assert granted <= 5 + (times[-1] - times[0]) * 1 + 1e-9


def test_proven_seeders_counts_fresh_distinct_addresses() -> None:
    now = 1_000_000.0
    proofs = [
        Proof("203.0.113.1", "aa" * 20, 3, now - 10),
        Proof("203.0.113.1", "bb" * 20, 4, now - 10),  # same address, another peer id: the same seeder
        Proof("203.0.113.2", "cc" * 20, 5, now - DAY),  # too old
        Proof("2001:db8:0:1::5", "dd" * 20, 1, now - 5),
        Proof("2001:db8:0:1::6", "ee" * 20, 1, now - 5),  # same /64
        Proof("::ffff:198.51.100.7", "ff" * 20, 2, now - 1),
        Proof("198.51.100.7", "ab" * 20, 2, now - 1),  # the same IPv4 address, mapped or not
        Proof("192.0.2.9", "cd" * 20, 2, now - 1),
        Proof("192.0.2.10", "ef" * 20, 2, now + 60),  # from the future (a clock moved back): not counted
    ]
    liar = [Failure("192.0.2.9", "cd" * 20, 7, now - 2, sole=True)]
    shared = [Failure("203.0.113.1", "aa" * 20, 8, now - 2, sole=False)]  # it may have been another's blocks
    assert proven_seeders(proofs, [], now=now, window=3600) == 4
    assert proven_seeders(proofs, liar, now=now, window=3600) == 3
    assert proven_seeders(proofs, shared, now=now, window=3600) == 4
    assert proven_seeders(proofs, [], now=now, window=2 * DAY) == 5
    assert proven_seeders(proofs, [], now=now, window=3600, per_peer=True) == 7
    assert proven_seeders(proofs, [], now=now, window=3600, ipv6_prefix=128) == 5
    assert proven_seeders(proofs, [], now=now, window=3600, ignore=["198.51.100.7"]) == 3
    assert proven_seeders([], [], now=now, window=3600) == 0


def test_the_proof_book_keeps_proofs_for_its_window() -> None:
    book = ProofBook(window=3600)
    book.record(H1, [Proof("198.51.100.7", "aa", 0, 100.0), Proof("203.0.113.9", "bb", 1, 100.0)], [], now=100.0)
    book.record(H1, [Proof("192.0.2.1", "cc", 2, 2000.0)], [], now=2000.0)
    assert book.proven(H1, now=2000.0) == 3 and book.proven(H2, now=2000.0) == 0
    assert book.proven(H1, now=3700.0) == 1  # the first two are older than the window
    book.record(H1, [], [Failure("192.0.2.1", "cc", 3, 3800.0, sole=True)], now=3800.0)
    assert book.proven(H1, now=3800.0) == 0  # caught alone sending a corrupt piece: counts for nothing
    book.forget(H1)
    assert book.proven(H1, now=3800.0) == 0
