"""Which kept torrents reach out to leechers with WebRTC offers of their own; all the others only answer.

Every offer is an RTCPeerConnection held until a peer answers it or 50 s pass, renewed with each announce, and
Chromium allows a page 500: when every kept torrent offered (WebTorrent's default, 5 an announce), a browser
keeping 100 files had no connection left to answer a leecher with. So a complete torrent makes no offer: a leecher
finds it with the offers it sends itself, which the tracker forwards to it, and it answers them. The exception is a
leecher that announced before this browser seeded (its offers went to others, and it announces again only minutes
later): the trackers count it (`incomplete`), and the most relevant torrents with leechers not connected to this
page offer to them, within a budget of offers for the whole page. The adapter (torrent_client.setOffers) makes a
torrent that gets offers announce at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

OFFERS_PER_ANNOUNCE = 5
"""The most a WebSocket tracker takes with one announce (bittorrent-tracker's client sends no more)."""
OFFER_BUDGET = 20
"""Offers of the whole page at one time: with the connections that carry data, far below Chromium's 500."""


@dataclass(frozen=True)
class Swarm:
    """What the page knows of one complete torrent's swarm."""

    info_hash: str
    leechers: int
    """The most leechers any of its trackers counted in its last answer."""
    leechers_connected: int
    """Leechers connected to this page."""


def plan_offers(swarms: Iterable[Swarm], order: Sequence[str], budget: int = OFFER_BUDGET) -> dict[str, int]:
    """Offers per announce, by infoHash, for the torrents that should make some (the rest make none): those whose
    trackers count leechers not connected here, a few each, in `order` (most relevant first; those it does not name
    after), until `budget` is spent."""
    rank = {info_hash: n for n, info_hash in enumerate(order)}
    waiting = [s for s in swarms if s.leechers > s.leechers_connected]
    waiting.sort(key=lambda s: (rank.get(s.info_hash, len(rank)), s.info_hash))
    plan: dict[str, int] = {}
    for swarm in waiting:
        offers = min(OFFERS_PER_ANNOUNCE, swarm.leechers - swarm.leechers_connected, budget)
        if offers <= 0:
            break
        plan[swarm.info_hash] = offers
        budget -= offers
    return plan
