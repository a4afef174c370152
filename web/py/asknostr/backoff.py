"""Reconnect delays: exponential, capped, with jitter."""

import random
from collections.abc import Callable


class Backoff:
    """Delays of base * factor**attempt seconds, capped, each scaled by a random 1 ± jitter."""

    def __init__(
        self,
        base: float = 1.0,
        factor: float = 2.0,
        cap: float = 60.0,
        jitter: float = 0.2,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if base <= 0 or factor < 1 or cap < base or not 0 <= jitter < 1:
            raise ValueError("need base > 0, factor >= 1, cap >= base and 0 <= jitter < 1")
        self.base, self.factor, self.cap, self.jitter = base, factor, cap, jitter
        self._rng = rng
        self._attempts = 0

    @property
    def attempts(self) -> int:
        """Delays handed out since the last reset."""
        return self._attempts

    def next_delay(self) -> float:
        """The delay in seconds before the next attempt."""
        try:
            delay = min(self.cap, self.base * self.factor**self._attempts)
        except OverflowError:
            delay = self.cap
        self._attempts += 1
        return delay * (1 + self.jitter * (2 * self._rng() - 1))

    def reset(self) -> None:
        """Start again from base, after a connection succeeded."""
        self._attempts = 0
