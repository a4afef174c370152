"""The viewer's race between P2P and HTTP (the 5-second rule), as a pure state machine fed by the adapter.

No playback waits on P2P past `P2P_WAIT` seconds (5). P2P is tried first; the post's HTTP `url` takes over when
  - no peer and no byte after 5 s, or peers that sent nothing in 5 s, or
  - every tracker of the torrent has answered that the swarm has no seeder, and no peer is connected (no point
    waiting; a tracker that does not answer leaves the 5-second rule in charge), or
  - once P2P delivers, it delivered slower than playback consumes the file (the media's bitrate) over the whole last
    window of 5 s, counting every peer's bytes: nothing at all, or too little. A viewer that waited a moment while
    several peers send faster than the media plays stays on P2P (a handover then fetches bytes twice). Before the
    element knows the duration there is no bitrate: nothing in the window, or playback waiting through all of it,
    hands over.
HTTP then fetches only what P2P has not got (asknostr.http_ranges), so P2P bytes already here are used, and the
torrent stays joined: P2P pieces that come later are used too, and the file is seeded afterwards. A decision for
HTTP is final; P2P is never given up once it has the whole file, nor without an HTTP url (it is the only way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from asknostr.peer_kinds import PeerKinds, peers_text, senders_text, who_text

P2P_WAIT = 5.0

TRYING, P2P, HTTP = "trying-p2p", "p2p", "http"
WHOLE_WAIT = 0.9  # playback waiting this share of the window counts as waiting all of it (samples come 0.25 s apart)

Sample = tuple[float, int, float]
"""(when, bytes P2P had, seconds playback had waited in all)"""


@dataclass(frozen=True)
class Race:
    started: float
    has_url: bool = True
    size: int = 0  # the file's bytes (0: not known yet); P2P with all of them is kept
    state: str = TRYING
    peers: int = 0
    received: int = 0  # bytes P2P has
    waited: float = 0.0  # seconds playback has waited for bytes since play, in all (the streaming route's count)
    need_rate: float = 0.0  # bytes/s playback consumes (the file over its duration; 0: not known)
    samples: tuple[Sample, ...] = ()
    """What P2P had delivered and playback had waited, as seen since P2P began delivering: the last window's, and the
    newest before it (the window's start)."""
    reason: str = ""
    held: bool = False  # the whole file was on this device before play (kept, or the user's own upload)

    def __post_init__(self) -> None:
        if self.size < 0 or self.received < 0 or self.waited < 0 or self.need_rate < 0:
            raise ValueError(f"a media race takes no negative figure: {self}")

    @property
    def source(self) -> str:
        """What plays the media: "p2p" (also while trying) or "http" (HTTP filling what P2P has not got)."""
        return HTTP if self.state == HTTP else P2P

    @property
    def complete(self) -> bool:
        return self.size > 0 and self.received >= self.size

    def _http(self, reason: str) -> Race:
        return replace(self, state=HTTP, reason=reason)

    def _decide(self, now: float, no_seeders: bool = False) -> Race:
        if self.state == TRYING and self.received > 0:
            first = (now, self.received, self.waited)
            return replace(self, state=P2P, reason="data arrived over P2P", samples=(first,))._decide(now)
        if self.state == HTTP or not self.has_url or self.complete:
            return self
        if self.state == TRYING:
            # the race's own clock: the element's count of waits runs a little ahead (from its request)
            if no_seeders and self.peers == 0:
                return self._http("the tracker knows no seeder")
            if now - self.started >= P2P_WAIT:
                return self._http(f"peers sent nothing in {P2P_WAIT:.0f} s" if self.peers else
                                  f"no peer after {P2P_WAIT:.0f} s")  # fmt: skip
            return self
        return self._check_window(now)

    def _check_window(self, now: float) -> Race:
        """P2P judged over the last window of P2P_WAIT seconds, every peer's bytes together."""
        kept = self.samples[:-1] if self.samples and self.samples[-1][0] == now else self.samples  # one per moment
        samples = (*kept, (now, self.received, self.waited))
        # the newest sample at least a window old starts the window; older ones are of no use any more
        start = max((i for i, (when, _, _) in enumerate(samples) if now - when >= P2P_WAIT), default=0)
        race = replace(self, samples=samples[start:])
        since, then, waited_then = samples[start]
        span = now - since
        if span < P2P_WAIT:
            return race
        speed = (self.received - then) / span
        if speed == 0:
            return race._http(f"P2P stalled after {P2P_WAIT:.0f} s")
        if self.need_rate and speed < self.need_rate:
            return race._http(f"P2P too slow: {rate_text(speed)} of {rate_text(self.need_rate)}")
        if not self.need_rate and self.waited - waited_then >= WHOLE_WAIT * span:
            return race._http(f"P2P too slow: {rate_text(speed)}")  # no bitrate yet, and playback waited throughout
        return race

    def tick(self, now: float) -> Race:
        return self._decide(now)

    def peers_changed(self, peers: int, now: float) -> Race:
        return replace(self, peers=peers)._decide(now)

    def on_device(self, size: int) -> Race:
        """The torrent had all of its `size` bytes before play: nothing to race for, played from this device."""
        return replace(self, state=P2P, held=True, size=size, received=size, reason="on this device")

    def data(self, received: int, now: float) -> Race:
        """`received`: the bytes P2P has so far (it only grows)."""
        return replace(self, received=max(self.received, received))._decide(now)

    def playback(self, waited: float, now: float) -> Race:
        """`waited`: the seconds playback has waited for bytes since play, in all (it only grows)."""
        return replace(self, waited=max(self.waited, waited))._decide(now)

    def needs(self, size: int, duration: float, now: float) -> Race:
        """The file's size, and its duration in seconds once the element knows it (0: not known, or an image): what
        playback consumes, to tell P2P that cannot keep up."""
        if size < 0 or not duration >= 0:  # not >=: NaN too
            raise ValueError(f"a media file of {size} bytes and {duration} s cannot be played")
        rate = size / duration if size and duration > 0 and duration != float("inf") else 0.0
        return replace(self, size=size or self.size, need_rate=rate)._decide(now)

    def tracker_answers(self, seeders: Mapping[str, int], trackers: int, now: float) -> Race:
        """What each tracker said of the swarm's seeders (`complete` of its last answer, by tracker URL), out of the
        `trackers` the torrent announces to."""
        heard_all = trackers > 0 and len(seeders) >= trackers
        return self._decide(now, no_seeders=heard_all and not any(seeders.values()))

    def next_deadline(self) -> float | None:
        """When `tick` alone may change something while trying, for the adapter's timer (later, playback's waits
        decide, which the adapter reports as they grow)."""
        if self.state != TRYING or not self.has_url:
            return None
        return self.started + P2P_WAIT


def rate_text(speed: float) -> str:
    """A speed in bytes/s, as the caption says it."""
    return f"{speed / 1e6:.1f} MB/s" if speed >= 1e6 else f"{speed / 1e3:.0f} kB/s"


def progress_text(
    race: Race, *, speed: float, fraction: float, peers: PeerKinds, done: bool = False, p2p_share: float = 0.0
) -> str:
    """The line under a media element: where it comes from, its peers (the Bridge, people) and who sent the bytes
    (once `done`: who sent them), speed (bytes/s), how much is here (0..1); `p2p_share`: the part of the file P2P
    gave when HTTP fills the rest (0..1)."""
    if race.state == TRYING:
        return (f"P2P · looking for peers ({who_text(peers)} connected)" if race.has_url else
                f"P2P only · {who_text(peers)}")  # fmt: skip
    if race.held:  # no peer gave it: the peers are those this browser seeds to
        return "On this device" + (f" · {who_text(peers)} connected" if peers.count else "")
    source = "P2P" if race.state == P2P else "HTTP"
    if race.state == HTTP and race.reason:
        source += f" ({race.reason})"  # why P2P was not used: a person should not have to guess
    if race.state == HTTP and p2p_share > 0:
        source = f"P2P {p2p_share:.0%} + {source}"  # both served: P2P's bytes were kept
    parts = [source]
    if done and peers.received:
        parts.append(senders_text(peers, all_p2p=race.state != HTTP))  # who gave it (they may have left since)
    elif race.state == P2P or peers.count:
        parts.append(peers_text(peers))
    if done:
        parts.append("complete")
    else:
        parts += [f"{speed / 1e6:.1f} MB/s", f"{fraction:.0%}"]
    return " · ".join(parts)
