"""The machine-wide NCBI bucket: threads and processes together never exceed the rate."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.records.ratelimit import RATE_WITHOUT_KEY, RATE_WITH_KEY, RateLimiter, limiter_for

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys, time
from pipeline.records.ratelimit import RateLimiter
limiter = RateLimiter(sys.argv[1], int(sys.argv[2]))
start = float(sys.argv[4])
time.sleep(max(0.0, start - time.monotonic()))
for _ in range(int(sys.argv[3])):
    print(limiter.acquire(), flush=True)
"""


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most timestamps found in any half-open window of this length."""
    times = sorted(times)
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t < start + window))
    return best


def test_threads_and_processes_share_one_strict_bucket(tmp_path: Path) -> None:
    path, rate = tmp_path / "bucket.state", 4
    start = time.monotonic() + 1.0  # let the children import before everyone starts at once
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(rate), "5", str(start)],
                                 cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    limiter = RateLimiter(path, rate)
    granted: list[float] = []
    lock = threading.Lock()

    def hammer() -> None:
        time.sleep(max(0.0, start - time.monotonic()))
        for _ in range(2):
            t = limiter.acquire()
            with lock:
                granted.append(t)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for child in children:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        granted.extend(float(line) for line in out.split())

    assert len(granted) == 18
    assert max_in_window(granted) <= rate
    ordered = sorted(granted)
    assert all(b - a >= 1.0 for a, b in zip(ordered, ordered[rate:]))
    # strict, yet not idle: 18 grants at 4 per 1.1 s take about four windows
    assert ordered[-1] - ordered[0] < 6.5


def test_burst_then_wait(tmp_path: Path) -> None:
    limiter = RateLimiter(tmp_path / "b.state", 3)
    times = [limiter.acquire() for _ in range(4)]
    assert times[2] - times[0] < 0.05  # the first three go at once
    assert times[3] - times[0] >= limiter.span


def test_future_and_corrupt_state_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "b.state"
    path.write_text("\n".join(str(time.monotonic() + 1e6) for _ in range(3)))  # from before a reboot
    limiter = RateLimiter(path, 3)
    t0 = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - t0 < 0.5
    path.write_text("not a number\n")
    limiter.acquire()
    assert len(path.read_text().split()) == 1


def test_limiter_for_settings(tmp_path: Path) -> None:
    plain = limiter_for(Settings(data=tmp_path))
    keyed = limiter_for(Settings(data=tmp_path, ncbi_api_key="SECRETKEY123"))
    assert plain.rate == RATE_WITHOUT_KEY and keyed.rate == RATE_WITH_KEY
    assert plain.path.parent == tmp_path and plain.path != keyed.path
    assert "SECRETKEY123" not in str(keyed.path)
    assert limiter_for(Settings(data=tmp_path)) is plain


def test_a_request_that_timed_out_takes_a_second_token(tmp_path: Path, monkeypatch) -> None:
    """A request given up on may still reach NCBI and count there, next to its retry: it holds a second
    token from when it timed out; a request refused at once (no timeout) holds one."""
    import urllib.error
    import urllib.request

    from pipeline.records import routing

    limiter = RateLimiter(tmp_path / "t.state", 3)
    token = routing.route.set(routing.Route("http://127.0.0.1:9/", limiter, 0.1, ""))
    try:
        for error, tokens in ((TimeoutError("timed out"), 2), (urllib.error.URLError(TimeoutError()), 2),
                              (urllib.error.URLError(ConnectionRefusedError()), 1)):
            (tmp_path / "t.state").write_text("")

            def fail(*args, error=error, **kwargs):
                raise error
            monkeypatch.setattr(routing, "_original_urlopen", fail)
            with pytest.raises((TimeoutError, urllib.error.URLError)):
                routing._routed_urlopen(urllib.request.Request(routing.DEFAULT_EUTILS_URL + "esearch.fcgi"))
            assert len((tmp_path / "t.state").read_text().split()) == tokens
    finally:
        routing.route.reset(token)
