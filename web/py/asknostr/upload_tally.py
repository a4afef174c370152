"""Bytes this browser has given to the swarm, for the health panel: a total that survives reloads.

WebTorrent counts what each torrent uploaded since the page opened, from 0 on every page, and a torrent let go
takes its count with it. The tally adds what earlier pages counted (stored by the adapter), what torrents let go in
this page had counted, and the most each present torrent has counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class UploadTally:
    before: int = 0
    """What earlier pages counted (the stored total when this page started)."""
    gone: int = 0
    """What torrents no longer in this page had counted."""
    seen: Mapping[str, int] = field(default_factory=dict)
    """The most each torrent of this page has counted, by infoHash."""

    def update(self, counters: Mapping[str, int]) -> UploadTally:
        """What WebTorrent counts now, by infoHash (a torrent removed and added again counts from 0)."""
        gone = self.gone + sum(count for info_hash, count in self.seen.items() if info_hash not in counters)
        seen = {h: max(0, count, self.seen.get(h, 0)) for h, count in counters.items()}
        return UploadTally(self.before, gone, seen)

    @property
    def total(self) -> int:
        return self.before + self.gone + sum(self.seen.values())
