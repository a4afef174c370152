"""The quota pruner: which kept torrents to let go so that a new one fits under the user's quota.

Pure and fast (a decision over 10,000 torrents is a sort: bench/prune_speed.py measures it under Pyodide).
Relevance, lowest pruned first:
  1. the creator's rank — favourites last, then creators the user zapped, then people they follow, then others;
  2. then how recently the torrent was used (played, or uploaded to a peer), older first;
  3. then when it was added, older first.
Pinned torrents (the user's own uploads that exist nowhere else) are never pruned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_QUOTA = 500 * 1000 * 1000

OTHER, FOLLOWED, ZAPPED, FAVOURITE = 0, 1, 2, 3
"""Creator ranks: the higher, the later its torrents are pruned (and the earlier they are seeded again)."""


@dataclass(frozen=True)
class Kept:
    info_hash: str
    size: int
    added: float
    last_access: float
    creator: str
    pinned: bool = False


@dataclass(frozen=True)
class Ranks:
    favourites: frozenset[str] = frozenset()
    zapped: frozenset[str] = frozenset()
    followed: frozenset[str] = frozenset()

    def of(self, creator: str) -> int:
        if creator in self.favourites:
            return FAVOURITE
        if creator in self.zapped:
            return ZAPPED
        if creator in self.followed:
            return FOLLOWED
        return OTHER


class DoesNotFit(ValueError):
    """Even pruning everything that may be pruned leaves no room: the new torrent is not kept."""


def relevance(item: Kept, ranks: Ranks) -> tuple[int, float, float, str]:
    """Sort key: the lowest is pruned first."""
    return (ranks.of(item.creator), item.last_access, item.added, item.info_hash)


def plan_prune(kept: Iterable[Kept], incoming: int, quota: int, ranks: Ranks) -> list[str]:
    """The infoHashes to delete, least relevant first, so that `incoming` more bytes fit under `quota`;
    [] when they already fit; DoesNotFit when they cannot."""
    items = list(kept)
    used = sum(item.size for item in items)
    excess = used + incoming - quota
    if excess <= 0:
        return []
    if incoming > quota:
        raise DoesNotFit(f"{incoming} bytes is more than the whole quota ({quota})")
    candidates = sorted((item for item in items if not item.pinned), key=lambda item: relevance(item, ranks))
    chosen: list[str] = []
    for item in candidates:
        if excess <= 0:
            break
        chosen.append(item.info_hash)
        excess -= item.size
    if excess > 0:
        raise DoesNotFit("the rest is pinned (your own uploads that exist nowhere else)")
    return chosen


def resume_order(kept: Iterable[Kept], ranks: Ranks) -> list[str]:
    """Which torrents to seed again first after a start: the most relevant first."""
    return [item.info_hash for item in sorted(kept, key=lambda item: relevance(item, ranks), reverse=True)]
