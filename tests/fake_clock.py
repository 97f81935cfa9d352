"""A clock and sleep for EntrezClient's retry budget: sleeping moves the clock, at once.

Retry budgets are minutes long; with this clock a test spends one in no time, and
what it asserts (how many tries, how long the client would have slept) does not
depend on the machine's speed. The rate limiter keeps the real clock, so the
requests the fake E-utilities server sees still keep NCBI's rate.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest

from pipeline.records.retries import Backoff


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def backoff(self, budget: float = 300.0, base: float = 0.5) -> Backoff:
        """A Backoff on this clock, its jitter seeded so the tries it allows are the same every run."""
        return Backoff(budget=budget, base=base, clock=self, sleep=self.sleep, rng=random.Random(18))


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    yield FakeClock()
