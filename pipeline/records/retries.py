"""How long litmine keeps asking NCBI: a budget in seconds, not a count of tries.

NCBI's 429 storms and backend hiccups last from seconds to minutes. A fixed count of
tries with short sleeps gives up within seconds and loses every record of a run that
waiting a little longer would have got (issue 18: six tries in about ten seconds). So a
request may retry until its budget is spent, sleeping capped exponential backoff with
full jitter between tries (uniform in [0, min(cap, base * 2^(try-1))], which spreads
clients apart best), and never less than the server's Retry-After. A Retry-After
beyond the budget is honoured by giving up, not by asking sooner.

The clock and the sleep are injectable, so tests spend the budget in no time.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.config import DEFAULT_RETRY_BUDGET

BASE = 0.5  # seconds: the ceiling of the first sleep
CAP = 30.0  # seconds: the ceiling of any sleep


@dataclass
class Backoff:
    """The sleeps between tries of one request, within `budget` seconds of its first try."""

    budget: float = DEFAULT_RETRY_BUDGET
    base: float = BASE
    cap: float = CAP
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The sleep after failed try number `attempt` (1, 2, ...)."""
        ceiling = min(self.cap, self.base * 2 ** min(attempt - 1, 32))
        return max(self.rng.uniform(0.0, ceiling), retry_after or 0.0)

    def next_delay(self, attempt: int, retry_after: float | None, deadline: float) -> float | None:
        """The sleep before the next try, or None when the next try would start past `deadline`."""
        delay = self.delay(attempt, retry_after)
        return delay if self.clock() + delay <= deadline else None
