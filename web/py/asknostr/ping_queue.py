"""Bootstrap pings waiting for the Bridge: kept (in IndexedDB, as JSON) until the Bridge answers, retried with
growing delays. A post never waits for them: they are sent after it is published."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

FIRST_RETRY = 5.0
MAX_RETRY = 3600.0
MAX_ATTEMPTS = 50


@dataclass(frozen=True)
class Ping:
    """`POST <bridge>/api/ping` with `{url, magnet, torrent}` (torrent: base64 of the .torrent file)."""

    bridge: str
    info_hash: str
    url: str
    magnet: str
    torrent: str
    attempts: int = 0
    next_at: float = 0.0
    last_error: str = ""

    def body(self) -> dict[str, str]:
        return {"url": self.url, "magnet": self.magnet, "torrent": self.torrent}


def retry_delay(attempts: int) -> float:
    """Seconds before attempt number `attempts + 1`: 5 s, doubling, at most an hour."""
    return min(MAX_RETRY, FIRST_RETRY * 2 ** min(attempts - 1, 20)) if attempts > 0 else 0.0


class PingQueue:
    def __init__(self, pings: list[Ping] | None = None) -> None:
        self.pings: dict[str, Ping] = {p.info_hash: p for p in pings or []}

    def retry_all_now(self, now: float) -> None:
        """A new start (a reload, the app opened again) is a new chance: everything waiting is due at once."""
        self.pings = {h: replace(p, next_at=min(p.next_at, now)) for h, p in self.pings.items()}

    def add(self, ping: Ping, now: float) -> None:
        self.pings[ping.info_hash] = replace(ping, attempts=0, next_at=now)

    def due(self, now: float) -> list[Ping]:
        return sorted((p for p in self.pings.values() if p.next_at <= now), key=lambda p: p.next_at)

    def next_due(self) -> float | None:
        return min((p.next_at for p in self.pings.values()), default=None)

    def failed(self, info_hash: str, error: str, now: float, *, permanent: bool = False) -> Ping | None:
        """Schedule the next attempt; dropped (None) after a permanent refusal or MAX_ATTEMPTS."""
        ping = self.pings.get(info_hash)
        if ping is None:
            return None
        attempts = ping.attempts + 1
        if permanent or attempts >= MAX_ATTEMPTS:
            del self.pings[info_hash]
            return None
        updated = replace(ping, attempts=attempts, next_at=now + retry_delay(attempts), last_error=error)
        self.pings[info_hash] = updated
        return updated

    def done(self, info_hash: str) -> None:
        self.pings.pop(info_hash, None)

    def to_json(self) -> str:
        return json.dumps([asdict(p) for p in self.pings.values()])

    @staticmethod
    def from_json(text: str | None) -> PingQueue:
        """The saved queue; entries that cannot be read are skipped (never raises)."""
        try:
            items = json.loads(text) if text else []
        except ValueError:
            items = []
        pings = []
        for item in items if isinstance(items, list) else []:
            try:
                pings.append(Ping(**item))
            except TypeError:
                continue
        return PingQueue(pings)


def is_permanent(status: int) -> bool:
    """A Bridge answer that a retry cannot change (a bad request, a mismatching file); 401 may be a clock skew,
    408/429 and 5xx are passing."""
    return 400 <= status < 500 and status not in (401, 408, 429)
