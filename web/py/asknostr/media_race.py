"""The viewer's race between P2P and HTTP (the 5-second rule), as a pure state machine fed by the adapter.

P2P is tried first. The viewer switches to the post's HTTP `url` when
  - no peer and no byte after `P2P_WAIT` seconds (5), or
  - the tracker answers that the swarm has no seeder and no peer is connected (no point waiting), or
  - peers are connected but nothing arrived after `STALL_WAIT` seconds (peers that cannot serve).
Once P2P has delivered a byte, HTTP is never used. Without an HTTP url, P2P is the only way and is kept.
In HTTP mode the torrent stays joined in the background, so what was fetched can be seeded afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

P2P_WAIT = 5.0
STALL_WAIT = 15.0

TRYING, P2P, HTTP = "trying-p2p", "p2p", "http"


@dataclass(frozen=True)
class Race:
    started: float
    has_url: bool = True
    state: str = TRYING
    peers: int = 0
    received: int = 0
    reason: str = ""

    @property
    def source(self) -> str:
        """What plays the media: "p2p" (also while trying) or "http"."""
        return HTTP if self.state == HTTP else P2P

    def _decide(self, now: float, no_seeders: bool = False) -> Race:
        if self.state != TRYING:
            return self
        if self.received > 0:
            return replace(self, state=P2P, reason="data arrived over P2P")
        if not self.has_url:
            return self
        if no_seeders and self.peers == 0:
            return replace(self, state=HTTP, reason="the tracker knows no seeder")
        waited = now - self.started
        if self.peers == 0 and waited >= P2P_WAIT:
            return replace(self, state=HTTP, reason=f"no peer after {P2P_WAIT:.0f} s")
        if waited >= STALL_WAIT:
            return replace(self, state=HTTP, reason=f"peers but no data after {STALL_WAIT:.0f} s")
        return self

    def tick(self, now: float) -> Race:
        return self._decide(now)

    def peers_changed(self, peers: int, now: float) -> Race:
        return replace(self, peers=peers)._decide(now)

    def data(self, received: int, now: float) -> Race:
        return replace(self, received=max(self.received, received))._decide(now)

    def tracker_answer(self, seeders: int, now: float) -> Race:
        """A tracker's count of seeders (`complete`) for the torrent."""
        return self._decide(now, no_seeders=seeders == 0)

    def next_deadline(self) -> float | None:
        """When `tick` may change something, for the adapter's timer."""
        if self.state != TRYING or not self.has_url:
            return None
        return self.started + (P2P_WAIT if self.peers == 0 else STALL_WAIT)
