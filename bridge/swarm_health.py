"""Swarm health: who says they seed what, how many seeders the Bridge believes, and when it may let go.

Pure functions and plain data (no I/O, no clock of its own): the heartbeat endpoint feeds `VoteBook`, the
retention job asks `active_seeders` and `HandoffPolicy`.

A heartbeat is a vote: "pubkey P seeds infoHash H and sees N seeders". Votes are counted once per pubkey per
infoHash and expire after a TTL, so a browser that stops reporting stops counting. What a browser *claims* to see
(N) is kept for the operator but never decides anything: a single key could claim any number. The count that
decides is the number of distinct live voters, capped by what the Bridge observes itself (seeds connected to its
libtorrent session, the tracker's scrape): thousands of keys made by one person, with no real peer behind them,
still count as the peers the Bridge can see.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_TORRENTS_PER_HEARTBEAT = 1000
MAX_CLAIMED_SEEDERS = 1_000_000

_INFO_HASH = re.compile(r"[0-9a-f]{40}")


class HeartbeatError(ValueError):
    """A heartbeat body that does not follow the format; the message says what is wrong."""


@dataclass(frozen=True)
class Report:
    """One line of a heartbeat: the browser seeds `info_hash` and sees `seeders` seeders (itself included)."""

    info_hash: str
    seeders: int


def parse_heartbeat(payload: object) -> list[Report]:
    """`{"torrents": [{"info_hash": "<40 hex>", "seeders": <int ≥ 0>}, …]}` → reports, duplicates merged."""
    if not isinstance(payload, dict) or not isinstance(payload.get("torrents"), list):
        raise HeartbeatError('body must be JSON {"torrents": [{"info_hash": "<40 hex>", "seeders": <count>}, …]}')
    entries: list[object] = payload["torrents"]
    if len(entries) > MAX_TORRENTS_PER_HEARTBEAT:
        raise HeartbeatError(f"at most {MAX_TORRENTS_PER_HEARTBEAT} torrents per heartbeat")
    reports: dict[str, Report] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise HeartbeatError(f"torrents[{index}] must be an object")
        info_hash, seeders = entry.get("info_hash"), entry.get("seeders", 0)
        if not isinstance(info_hash, str) or not _INFO_HASH.fullmatch(info_hash.lower()):
            raise HeartbeatError(f"torrents[{index}].info_hash must be 40 hex digits")
        if isinstance(seeders, bool) or not isinstance(seeders, int) or not 0 <= seeders <= MAX_CLAIMED_SEEDERS:
            raise HeartbeatError(f"torrents[{index}].seeders must be an integer from 0 to {MAX_CLAIMED_SEEDERS}")
        reports[info_hash.lower()] = Report(info_hash.lower(), seeders)
    return list(reports.values())


@dataclass(frozen=True)
class Vote:
    at: float
    claimed: int


@dataclass
class VoteBook:
    """The live votes per infoHash: one per pubkey (the latest), each alive for `ttl` seconds."""

    ttl: float
    _votes: dict[str, dict[str, Vote]] = field(default_factory=dict)

    def record(self, pubkey: str, reports: Iterable[Report], now: float) -> None:
        for report in reports:
            self._votes.setdefault(report.info_hash, {})[pubkey] = Vote(now, report.seeders)

    def live(self, info_hash: str, now: float) -> dict[str, Vote]:
        """The votes for `info_hash` younger than the TTL, by pubkey."""
        votes = self._votes.get(info_hash, {})
        return {pubkey: vote for pubkey, vote in votes.items() if now - vote.at < self.ttl}

    def voters(self, info_hash: str, now: float) -> int:
        return len(self.live(info_hash, now))

    def claimed_median(self, info_hash: str, now: float) -> float | None:
        """The median seeder count the live voters report seeing (for the operator; it decides nothing)."""
        claims = [vote.claimed for vote in self.live(info_hash, now).values()]
        return statistics.median(claims) if claims else None

    def expire(self, now: float) -> None:
        """Forget dead votes (memory stays proportional to the live ones)."""
        for info_hash in list(self._votes):
            alive = self.live(info_hash, now)
            if alive:
                self._votes[info_hash] = alive
            else:
                del self._votes[info_hash]

    def forget(self, info_hash: str) -> None:
        self._votes.pop(info_hash, None)


@dataclass(frozen=True)
class Observed:
    """What the Bridge sees of a swarm by itself."""

    connected_seeds: int = 0
    """Peers with the whole file connected to the Bridge's libtorrent session."""
    tracker_seeders: int | None = None
    """The tracker scrape's `complete`, the Bridge's own announce taken off; None when no tracker answered."""

    @property
    def seeders(self) -> int:
        return max(self.connected_seeds, self.tracker_seeders or 0)


def active_seeders(voters: int, observed: Observed) -> int:
    """The seeders the Bridge believes in: distinct live voters, but no more than it can see itself."""
    return min(voters, observed.seeders)


def tracker_seeders_besides_us(complete: int, we_announce: bool) -> int:
    """A scrape's `complete` without the Bridge itself (counted when it announces the torrent as a seed)."""
    return max(0, complete - (1 if we_announce else 0))


@dataclass(frozen=True)
class HandoffPolicy:
    """Let go of a torrent when more than `min_seeders` seeders are active and it is older than `min_age` seconds."""

    min_seeders: int = 10
    min_age: float = 24 * 3600

    def hand_off(self, *, created: float, now: float, active: int) -> bool:
        return active > self.min_seeders and now - created > self.min_age
