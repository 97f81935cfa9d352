"""The retry budget's sleeps: capped exponential backoff, full jitter, Retry-After, a deadline."""
from fake_clock import FakeClock
from pipeline.records.retries import Backoff


def test_sleeps_are_full_jitter_under_a_capped_exponential_ceiling(fake_clock: FakeClock) -> None:
    backoff = fake_clock.backoff(base=0.5)
    for attempt in range(1, 40):
        ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
        delays = [backoff.delay(attempt) for _ in range(50)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # spread over the whole range, not stuck at its bottom


def test_retry_after_is_a_floor() -> None:
    assert Backoff().delay(1, retry_after=7.5) == 7.5
    assert Backoff(cap=1.0).delay(20, retry_after=45.0) == 45.0


def test_no_sleep_that_would_end_past_the_deadline(fake_clock: FakeClock) -> None:
    backoff = fake_clock.backoff(budget=10)
    assert backoff.next_delay(1, None, deadline=10.0) is not None
    assert backoff.next_delay(1, 11.0, deadline=10.0) is None
    fake_clock.advance(10)
    assert backoff.next_delay(1, None, deadline=10.0) in (0.0, None)
