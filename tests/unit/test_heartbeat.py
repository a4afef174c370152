"""What each heartbeat reports (asknostr.heartbeat): held torrents always, new ones newest first, the Bridge's "not
held" asked again rarely, and never a body the Bridge would refuse."""

from __future__ import annotations

import itertools
import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from asknostr import heartbeat
from asknostr.heartbeat import (
    DISCOVERY_ROOM,
    LAST_RECHECK,
    MAX_REPORTS,
    MAX_SEEDERS,
    RECHECK_PER_BEAT,
    HeartbeatPlan,
    Report,
    body,
    held_in,
)
from bridge.heartbeat import MAX_BODY
from bridge.swarm_health import MAX_CLAIMED_SEEDERS, MAX_TORRENTS_PER_HEARTBEAT, asks_held, parse_heartbeat


def hashes(n: int, start: int = 0) -> list[str]:
    return [f"{start + i:040x}" for i in range(n)]


def seeding(info_hashes: list[str]) -> list[Report]:
    return [Report(h, 2) for h in info_hashes]


def sent(plan: HeartbeatPlan, kept: list[str], held: set[str] | None = None) -> list[str]:
    """One heartbeat: what the plan reports, the Bridge answering that it holds `held` of it (all: None)."""
    reports = plan.next(seeding(kept))
    plan.record(reports, None if held is None else {r.info_hash for r in reports} & held)
    return [r.info_hash for r in reports]


def test_the_limits_are_far_below_the_bridges() -> None:
    assert MAX_REPORTS <= MAX_TORRENTS_PER_HEARTBEAT // 2
    assert MAX_SEEDERS == MAX_CLAIMED_SEEDERS
    worst = body(Report(f"{n:040x}", MAX_SEEDERS) for n in range(MAX_REPORTS))
    size = len(json.dumps(worst).encode())  # as browser/signed_post.py sends it
    assert size <= MAX_BODY // 4, size
    assert len(parse_heartbeat(worst)) == MAX_REPORTS and asks_held(worst)  # the Bridge's own check


def test_a_small_browser_reports_everything_at_once() -> None:
    plan, kept = HeartbeatPlan(), hashes(30)
    assert sent(plan, kept, set(kept[:10])) == kept
    assert sent(plan, kept, set(kept[:10])) == kept[:10]  # the other 20 are not asked again at once


def test_new_ones_go_newest_first_and_held_ones_every_time() -> None:
    plan, kept = HeartbeatPlan(), hashes(5000)
    held = {kept[3], kept[700], kept[2600], kept[4999]}
    first = sent(plan, kept, held)
    assert first == kept[:MAX_REPORTS]  # newest first
    second = sent(plan, kept, held)
    assert second == [kept[3], *kept[MAX_REPORTS : 2 * MAX_REPORTS - 1]]  # held first, then the next new ones
    beats = 2
    while not held <= plan.held():
        report = sent(plan, kept, held)
        assert plan.held() & held <= set(report)  # every held one known so far, every time
        beats += 1
    assert beats <= math.ceil(len(kept) / (MAX_REPORTS - len(held)))  # 11: every body near full until all asked
    for _ in range(100):  # then what the Bridge holds, and a few it did not, asked again
        steady = sent(plan, kept, held)
        assert held <= set(steady) and len(steady) <= len(held) + RECHECK_PER_BEAT


def test_what_the_bridge_does_not_hold_is_asked_again_after_2_4_to_64_heartbeats() -> None:
    plan, kept = HeartbeatPlan(), hashes(3)
    asked_at = [beat for beat in range(300) if kept[0] in sent(plan, kept, set())]
    gaps = [b - a for a, b in itertools.pairwise(asked_at)]
    assert gaps[:7] == [2, 4, 8, 16, 32, 64, 64] and set(gaps[5:]) == {LAST_RECHECK}
    # the Bridge seeds kept[1] now (someone pinged it): found within 64 heartbeats, then reported every time
    found = next(beat for beat in range(LAST_RECHECK + 1) if kept[1] in sent(plan, kept, {kept[1]}))
    assert found <= LAST_RECHECK
    assert all(kept[1] in sent(plan, kept, {kept[1]}) for _ in range(LAST_RECHECK))


def test_a_torrent_the_bridge_lets_go_is_no_longer_reported_then_asked_again_from_the_start() -> None:
    plan, kept = HeartbeatPlan(), hashes(2)
    assert sent(plan, kept) == kept
    assert sent(plan, kept, {kept[1]}) == kept  # kept[0] handed off: the Bridge no longer holds it
    assert sent(plan, kept, {kept[1]}) == [kept[1]]
    assert sent(plan, kept, {kept[1]}) == [kept[1], kept[0]]  # asked again 2 heartbeats later


def test_rechecks_come_a_few_at_a_time_the_longest_due_first() -> None:
    plan, kept = HeartbeatPlan(), hashes(400)
    assert len(sent(plan, kept, set())) == 400
    assert sent(plan, kept, set()) == []
    due = sent(plan, kept, set())
    assert due == kept[:RECHECK_PER_BEAT]
    assert sent(plan, kept, set()) == kept[RECHECK_PER_BEAT : 2 * RECHECK_PER_BEAT]


def test_many_held_ones_take_turns_and_new_ones_still_get_room() -> None:
    plan, kept = HeartbeatPlan(), hashes(1200)
    for _ in range(3):
        sent(plan, kept)  # an older Bridge (no "held"): everything reported counts as held
    assert plan.held() == set(kept[: MAX_REPORTS + 2 * DISCOVERY_ROOM])  # held ones leave room for discovery
    fresh = hashes(5, start=10_000)
    report = sent(plan, fresh + kept)
    assert len(report) == MAX_REPORTS and report[MAX_REPORTS - DISCOVERY_ROOM :][:5] == fresh
    reported: dict[str, list[int]] = {}
    for beat in range(12):
        for h in sent(plan, fresh + kept):
            reported.setdefault(h, []).append(beat)
    assert set(reported) == set(fresh + kept)  # every one in turn, once discovered
    turn = math.ceil(len(fresh + kept) / MAX_REPORTS)
    for beats in reported.values():
        assert max(b - a for a, b in zip([5, *beats], [*beats, 11], strict=True)) <= turn  # once all known, every 3


def test_only_what_the_bridge_accepts_and_what_is_still_seeded() -> None:
    plan = HeartbeatPlan()
    reports = [Report("A" * 40, 3), Report("a" * 40, 4), Report("zz", 1), Report("b" * 40, 10**9), Report("c" * 40, -1)]
    assert plan.next(reports) == [Report("a" * 40, 3), Report("b" * 40, MAX_SEEDERS), Report("c" * 40, 0)]
    plan.record(plan.next(reports), {"a" * 40})
    assert plan.held() == {"a" * 40}
    assert plan.next([Report("b" * 40, 1)]) == []  # not held, not due
    assert plan.held() == set()  # a was let go by this browser: forgotten


def test_the_bridges_answer() -> None:
    assert held_in({"accepted": 1, "ignored": 0, "ttl": 180, "held": ["A" * 40, 5]}) == {"a" * 40}
    assert held_in({"accepted": 1, "ignored": 0, "ttl": 180}) is None  # an older Bridge
    assert held_in(None) is None
    one = {"torrents": [{"info_hash": "a" * 40, "seeders": 1}], "ask_held": True}
    assert heartbeat.body([Report("a" * 40, 1)]) == one


@settings(max_examples=60, deadline=None)
@given(
    kept=st.lists(st.integers(0, 3000), min_size=0, max_size=3000, unique=True),
    held_share=st.integers(0, 10),
    seed=st.integers(0, 2**16),
)
def test_any_plan_stays_within_the_limits_and_finds_what_is_held(kept: list[int], held_share: int, seed: int) -> None:
    info_hashes = [f"{n:040x}" for n in kept]
    held = {h for n, h in zip(kept, info_hashes, strict=True) if (n * 7919 + seed) % 10 < held_share}
    plan = HeartbeatPlan()
    bound = math.ceil(len(info_hashes) / DISCOVERY_ROOM) + 1
    for _ in range(bound):
        report = sent(plan, info_hashes, held)
        assert len(report) <= MAX_REPORTS and len(set(report)) == len(report)
        assert set(report) <= set(info_hashes)
    assert plan.held() == held
