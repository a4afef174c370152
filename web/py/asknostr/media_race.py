"""The viewer's race between P2P and HTTP (the 5-second rule), as a pure state machine fed by the adapter.

P2P is tried first. The viewer switches to the post's HTTP `url` when
  - no peer and no byte after `P2P_WAIT` seconds (5), or
  - every tracker of the torrent has answered that the swarm has no seeder, and no peer is connected (no point
    waiting; a tracker that does not answer leaves the 5-second rule in charge), or
  - peers are connected but nothing arrived after `STALL_WAIT` seconds (peers that cannot serve).
Once P2P has delivered a byte, HTTP is never used. Without an HTTP url, P2P is the only way and is kept.
In HTTP mode the torrent stays joined in the background, so what was fetched can be seeded afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
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

    def tracker_answers(self, seeders: Mapping[str, int], trackers: int, now: float) -> Race:
        """What each tracker said of the swarm's seeders (`complete` of its last answer, by tracker URL), out of the
        `trackers` the torrent announces to."""
        heard_all = trackers > 0 and len(seeders) >= trackers
        return self._decide(now, no_seeders=heard_all and not any(seeders.values()))

    def next_deadline(self) -> float | None:
        """When `tick` may change something, for the adapter's timer."""
        if self.state != TRYING or not self.has_url:
            return None
        return self.started + (P2P_WAIT if self.peers == 0 else STALL_WAIT)


def progress_text(race: Race, *, speed: float, fraction: float, peers: int, done: bool = False) -> str:
    """The line under a media element: where it comes from, peers, speed (bytes/s), how much is here (0..1)."""
    if race.state == TRYING:
        return f"P2P · looking for peers ({peers} connected)" if race.has_url else f"P2P only · {peers} peers"
    source = "P2P" if race.state == P2P else "HTTP"
    if race.state == HTTP and race.reason:
        source += f" ({race.reason})"  # why P2P was not used: a person should not have to guess
    parts = [source]
    if race.state == P2P or peers:
        parts.append(f"{peers} peer" + ("" if peers == 1 else "s"))
    if done:
        parts.append("complete")
    else:
        parts += [f"{speed / 1e6:.1f} MB/s", f"{fraction:.0%}"]
    return " · ".join(parts)
