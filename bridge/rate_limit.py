"""Token buckets per key (a pubkey, an IP address): `per_minute` requests a minute, bursts up to `burst`."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_KEYS = 100_000
"""Buckets kept at most; full buckets are dropped first (they carry no information)."""


@dataclass
class RateLimiter:
    per_minute: float
    burst: float
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (tokens, at)

    @property
    def unlimited(self) -> bool:
        return self.per_minute <= 0

    def allow(self, key: str, now: float) -> float:
        """0 when the request may go on (a token is taken); else the seconds to wait before the next one."""
        if self.unlimited:
            return 0.0
        rate = self.per_minute / 60
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / rate
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > MAX_KEYS:
            self._prune(now)
        return 0.0

    def _prune(self, now: float) -> None:
        rate = self.per_minute / 60
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * rate >= self.burst:
                del self._buckets[key]
