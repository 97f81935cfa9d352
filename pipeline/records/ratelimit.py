"""One NCBI rate limit shared by every thread and process on this machine.

NCBI allows 3 requests per second without an API key and 10 with one, counted
per IP address or key, not per process: Prefect/Dask workers or two `litmine`
commands running at once must share one budget. The bucket therefore lives in
a small state file guarded by ``fcntl.flock``.

The bucket is strict: it holds ``rate`` tokens and a spent token comes back
only ``window + margin`` seconds after it was spent (a sliding-window log of
the last ``rate`` send times). A classic refilling token bucket would let a
full bucket's burst be followed by refilled tokens within the same second, so
the server could see up to twice the rate in one 1 s window; this one cannot.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Settings

log = logging.getLogger("litmine.entrez")

RATE_WITHOUT_KEY = 3
RATE_WITH_KEY = 10
SAFETY_MARGIN = 0.1  # seconds added to the 1 s window, for scheduling and network jitter


@dataclass
class RateLimiter:
    """At most ``rate`` acquisitions in any ``window + margin`` seconds, machine-wide.

    Times are ``time.monotonic()`` (CLOCK_MONOTONIC, shared by all processes on
    one host); entries from the future (a state file surviving a reboot) are dropped.
    """

    path: Path
    rate: int
    window: float = 1.0
    margin: float = SAFETY_MARGIN

    def __post_init__(self) -> None:
        if self.rate < 1:
            raise ValueError(f"rate must be at least 1, got {self.rate}")
        self.path = Path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def span(self) -> float:
        return self.window + self.margin

    def acquire(self) -> float:
        """Block until a request may be sent; returns the monotonic time it was granted."""
        while True:
            granted_at, wait = self._try_acquire()
            if granted_at is not None:
                return granted_at
            time.sleep(wait)

    def _try_acquire(self) -> tuple[float | None, float]:
        """Take a token (its grant time, 0) or say how long to wait (None, seconds)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = time.monotonic()
            recent = [t for t in self._read(fd) if now - self.span < t <= now]
            if len(recent) >= self.rate:
                return None, max(recent[-self.rate] + self.span - now, 1e-3)
            recent.append(now)
            self._write(fd, recent[-self.rate:])
            return now, 0.0
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _read(self, fd: int) -> list[float]:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = b""
        while chunk := os.read(fd, 4096):
            raw += chunk
        try:
            return sorted(float(line) for line in raw.split())
        except ValueError:
            log.warning("rate limit state %s is unreadable; starting it afresh", self.path)
            return []

    def _write(self, fd: int, times: list[float]) -> None:
        data = "".join(f"{t:.6f}\n" for t in times).encode()
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, data)


_limiters: dict[tuple[Path, int], RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(settings: Settings) -> RateLimiter:
    """The machine-wide bucket for these settings' NCBI identity (with or without a key).

    Keyed and unkeyed use have separate budgets at NCBI, so they get separate
    state files; a key is named by a short hash, never by itself.
    """
    if settings.ncbi_api_key:
        digest = hashlib.sha256(settings.ncbi_api_key.encode()).hexdigest()[:12]
        path, rate = settings.data / f"entrez-ratelimit-key-{digest}.state", RATE_WITH_KEY
    else:
        path, rate = settings.data / "entrez-ratelimit.state", RATE_WITHOUT_KEY
    with _limiters_lock:
        if (path, rate) not in _limiters:
            _limiters[(path, rate)] = RateLimiter(path, rate)
        return _limiters[(path, rate)]
