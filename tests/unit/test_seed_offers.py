"""Which kept torrents offer to leechers (asknostr.seed_offers): only those whose trackers count leechers not
connected to the page, the most relevant first, a few each, within the page's budget."""

from __future__ import annotations

from asknostr.seed_offers import OFFER_BUDGET, OFFERS_PER_ANNOUNCE, Swarm, plan_offers


def swarm(n: int, leechers: int = 0, connected: int = 0) -> Swarm:
    return Swarm(f"{n:040x}", leechers, connected)


def test_a_torrent_nobody_waits_for_makes_no_offer() -> None:
    assert plan_offers([swarm(1), swarm(2, leechers=2, connected=2), swarm(3, leechers=1, connected=3)], []) == {}


def test_leechers_not_connected_get_an_offer_each_up_to_what_a_tracker_takes() -> None:
    plan = plan_offers([swarm(1, leechers=2), swarm(2, leechers=9, connected=1)], [])
    assert plan == {swarm(1).info_hash: 2, swarm(2).info_hash: OFFERS_PER_ANNOUNCE}


def test_a_thousand_waiting_torrents_stay_within_the_budget_most_relevant_first() -> None:
    swarms = [swarm(n, leechers=1) for n in range(1000)]
    order = [s.info_hash for s in reversed(swarms)]  # the last kept is the most relevant
    plan = plan_offers(swarms, order)
    assert sum(plan.values()) == OFFER_BUDGET
    assert list(plan) == order[:OFFER_BUDGET]


def test_torrents_the_order_does_not_name_come_after_those_it_does() -> None:
    named, unnamed = swarm(7, leechers=OFFERS_PER_ANNOUNCE), swarm(1, leechers=OFFERS_PER_ANNOUNCE)
    plan = plan_offers([unnamed, named], [named.info_hash], budget=OFFERS_PER_ANNOUNCE + 1)
    assert plan == {named.info_hash: OFFERS_PER_ANNOUNCE, unnamed.info_hash: 1}


def test_no_budget_no_offers() -> None:
    assert plan_offers([swarm(1, leechers=3)], [], budget=0) == {}
