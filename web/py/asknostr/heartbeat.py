"""What each heartbeat tells the Bridge, for a browser that keeps anything from one file to thousands.

The Bridge (`POST /api/heartbeat`) refuses a body of more than 1,000 torrents or 256 KiB, counts only reports of
torrents it holds, keeps a vote alive for three heartbeat intervals and lets a key send a few heartbeats a minute.
So one small body a minute says:

- the torrents the Bridge said it holds, every time (their votes must not lapse);
- torrents not asked about yet, newest first (the Bridge lets old ones go once their swarm is healthy), in the
  room left, and always in some room while any are left, however many are held;
- torrents the Bridge said it does not hold, again after 2, 4, … 64 heartbeats, a few at a time: it may seed one
  later (a ping that waited in the queue, a file uploaded again).

The Bridge's answer names which of the reported torrents it holds (`"held"`, asked for with `"ask_held": true`);
an answer without it (an older Bridge) counts everything reported as held, so everything is reported in turn.
Pure, unit-tested in CPython: browser/swarm_orchestrator.py lists what it seeds, sends the plan and records the
answer.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

MAX_REPORTS = 500
"""Torrents in one heartbeat: half the Bridge's limit (bridge.swarm_health.MAX_TORRENTS_PER_HEARTBEAT); at most
about 40 KB of JSON, a sixth of its body limit (bridge.heartbeat.MAX_BODY)."""
DISCOVERY_ROOM = 100
"""Room kept in every heartbeat for torrents not asked about yet (or due again) while there are any."""
RECHECK_PER_BEAT = 50
"""At most this many torrents the Bridge did not hold are asked about again in one heartbeat."""
FIRST_RECHECK = 2
LAST_RECHECK = 64
"""Heartbeats before a torrent the Bridge did not hold is asked about again: doubling from the first to the last."""
MAX_SEEDERS = 1_000_000
"""The largest seeder count the Bridge takes (bridge.swarm_health.MAX_CLAIMED_SEEDERS)."""

_INFO_HASH = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Report:
    """This browser seeds `info_hash` and sees `seeders` seeders (itself included)."""

    info_hash: str
    seeders: int


@dataclass(frozen=True)
class _Miss:
    asked: int
    """The heartbeat in which the Bridge last said it does not hold the torrent."""
    misses: int
    """How many times in a row it said so."""

    @property
    def due(self) -> int:
        """The heartbeat from which it is asked about again."""
        return self.asked + min(FIRST_RECHECK << min(self.misses - 1, 16), LAST_RECHECK)


@dataclass
class HeartbeatPlan:
    """What the Bridge said of the torrents this browser seeds, and so what the next heartbeat reports."""

    beat: int = 0
    """Heartbeats answered so far."""
    _held: dict[str, int] = field(default_factory=dict)
    """infoHash → the heartbeat that last reported it, for those the Bridge holds."""
    _missing: dict[str, _Miss] = field(default_factory=dict)

    def next(self, seeding: Iterable[Report]) -> list[Report]:
        """The reports of the next heartbeat, at most MAX_REPORTS. `seeding`: what this browser seeds, newest first
        (reports the Bridge would refuse are left out, seeders capped); what is no longer seeded is forgotten."""
        current: dict[str, Report] = {}
        for report in seeding:
            info_hash = report.info_hash.lower()
            if _INFO_HASH.fullmatch(info_hash) and info_hash not in current:
                current[info_hash] = Report(info_hash, min(max(report.seeders, 0), MAX_SEEDERS))
        self._held = {h: beat for h, beat in self._held.items() if h in current}
        self._missing = {h: miss for h, miss in self._missing.items() if h in current}

        # the least recently reported first when they do not all fit (sorted() is stable: then newest first)
        held = sorted((h for h in current if h in self._held), key=self._held.__getitem__)
        new = [h for h in current if h not in self._held and h not in self._missing]
        due = [h for h in current if h in self._missing and self._missing[h].due <= self.beat]
        due = sorted(due, key=lambda h: self._missing[h].due)[:RECHECK_PER_BEAT]  # the longest due first
        discover = new + due
        chosen = held[: MAX_REPORTS - min(len(discover), DISCOVERY_ROOM)]
        chosen += discover[: MAX_REPORTS - len(chosen)]
        return [current[h] for h in chosen]

    def record(self, sent: Iterable[Report], held: Collection[str] | None) -> None:
        """The Bridge accepted the heartbeat of `sent` and holds `held` of them (None: it did not say)."""
        for report in sent:
            if held is None or report.info_hash in held:
                self._held[report.info_hash] = self.beat
                self._missing.pop(report.info_hash, None)
            else:
                self._held.pop(report.info_hash, None)
                last = self._missing.get(report.info_hash)
                self._missing[report.info_hash] = _Miss(self.beat, last.misses + 1 if last else 1)
        self.beat += 1

    def held(self) -> set[str]:
        """The torrents the Bridge last said it holds (for devtools and tests)."""
        return set(self._held)


def body(reports: Iterable[Report]) -> dict[str, object]:
    """The heartbeat's JSON body."""
    torrents = [{"info_hash": r.info_hash, "seeders": r.seeders} for r in reports]
    return {"torrents": torrents, "ask_held": True}


def held_in(answer: object) -> set[str] | None:
    """The Bridge's answer's `held` infoHashes; None when it does not name them (an older Bridge)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("held"), list):
        return None
    return {h.lower() for h in answer["held"] if isinstance(h, str)}
