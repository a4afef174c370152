"""When the Bridge steps back from a swarm it seeds, so that the people who follow a creator carry the bytes.

The Bridge answers every browser at a browser's speed or better, so as a plain seed it wins every race and sends a
post's file to each follower in turn. Instead, by what it sees of the swarm (each connected peer's pieces, and the
seeds the tracker counts besides itself), one of three modes, each an upload limit on the torrent:
- `FULL`: some piece has no other holder it can see: the Bridge is its only source, and sends at full speed;
- `SHARE`: every piece has another holder: `share_rate`, well under what a browser sends, so browsers fetch from the
  faster peers and each other, and the Bridge fills in;
- `TRICKLE`: every piece is held by at least `holders` peers connected to the Bridge: `trickle_rate`; the Bridge
  stays in the swarm (it comes back to full speed if they leave) but browsers serve.
The tracker's count of seeds is enough for `SHARE`, not for `TRICKLE`: announces are free (eleven of them with no
peer behind used to force a handoff: README, "What the Bridge defends against"), so fake seeds can slow the Bridge to
the share rate, no further; a connected peer's pieces cost a WebRTC connection each.
Not BEP 16 super seeding (libtorrent's `super_seeding`, offering each peer one rare piece at a time): with it,
libtorrent 2.1.1 sent a WebTorrent browser nothing in 60 s.
Pure: the seeder (bridge.seeder) looks at libtorrent and applies the mode a torrent is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

FULL, SHARE, TRICKLE = "full", "share", "trickle"


@dataclass(frozen=True)
class Mode:
    name: str
    upload_limit: int
    """Bytes/s the torrent may upload; 0: no limit."""


@dataclass(frozen=True)
class SwarmView:
    """What the Bridge sees of one swarm it seeds."""

    availability: Sequence[int]
    """Per piece: the peers connected to the Bridge that hold it (a seed holds every piece)."""
    seeds_elsewhere: int = 0
    """Seeds besides the Bridge that the tracker's last answer counted (connected or not; 0: none, or unknown)."""

    def holders(self) -> list[int]:
        """Per piece, the other holders the Bridge knows of: a seed the tracker counts holds every piece, and may be
        one of the connected peers already (so the larger of the two counts, not their sum)."""
        return [max(count, self.seeds_elsewhere) for count in self.availability]

    def connected_holders(self) -> int:
        """The fewest connected peers that hold any one piece."""
        return min(self.availability, default=0)


@dataclass(frozen=True)
class StepBack:
    holders: int = 3
    """Connected holders every piece needs before the Bridge only trickles; 0: it never steps back (a plain seed)."""
    share_rate: int = 256 * 1024
    """Bytes/s the Bridge sends of a swarm whose pieces all have another holder."""
    trickle_rate: int = 32 * 1024
    """Bytes/s the Bridge still sends of a swarm that carries itself."""

    def __post_init__(self) -> None:
        if self.holders < 0 or not 0 < self.trickle_rate <= self.share_rate:
            raise ValueError(f"a step-back needs holders >= 0 and 0 < trickle rate <= share rate: {self}")

    def mode(self, view: SwarmView) -> Mode:
        if self.holders == 0 or min(view.holders(), default=0) == 0:
            return Mode(FULL, upload_limit=0)
        if view.connected_holders() < self.holders:
            return Mode(SHARE, upload_limit=self.share_rate)
        return Mode(TRICKLE, upload_limit=self.trickle_rate)


def availability(pieces: int, bitfields: Sequence[Sequence[bool]]) -> list[int]:
    """Per piece, how many of `bitfields` (each connected peer's pieces; an empty one: not known yet) hold it."""
    if pieces < 0:
        raise ValueError(f"a torrent has no {pieces} pieces")
    counts = [0] * pieces
    for bits in bitfields:
        for index, held in enumerate(bits[:pieces]):
            if held:
                counts[index] += 1
    return counts
