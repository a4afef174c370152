from typing import Any

import pytest

from asknostr.backoff import Backoff


def test_exponential_capped_without_jitter() -> None:
    backoff = Backoff(base=1.0, factor=2.0, cap=10.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.attempts == 6


def test_jitter_bounds() -> None:
    assert Backoff(base=4.0, jitter=0.25, rng=lambda: 0.0).next_delay() == 3.0
    assert Backoff(base=4.0, jitter=0.25, rng=lambda: 0.5).next_delay() == 4.0
    assert Backoff(base=4.0, jitter=0.25, rng=lambda: 1.0).next_delay() == 5.0


def test_reset_starts_again() -> None:
    backoff = Backoff(jitter=0.0)
    backoff.next_delay()
    backoff.next_delay()
    backoff.reset()
    assert backoff.attempts == 0
    assert backoff.next_delay() == 1.0


def test_many_attempts_do_not_overflow() -> None:
    backoff = Backoff(cap=60.0, jitter=0.0)
    delays = [backoff.next_delay() for _ in range(2000)]
    assert delays[-1] == 60.0


def test_default_rng_stays_within_jitter() -> None:
    backoff = Backoff(base=10.0, cap=10.0, jitter=0.2)
    assert all(8.0 <= backoff.next_delay() <= 12.0 for _ in range(100))


@pytest.mark.parametrize(
    "kwargs",
    [{"base": 0.0}, {"factor": 0.5}, {"base": 5.0, "cap": 1.0}, {"jitter": 1.0}, {"jitter": -0.1}],
)
def test_rejects_bad_parameters(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="need base > 0"):
        Backoff(**kwargs)
