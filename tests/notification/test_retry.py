"""The retry schedule: exponential, jittered, capped at five minutes; and when to give up."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_platform.notification.retry import final_outcome, next_attempt_delay, retry_delay
from incident_platform.notification.rules import Outcome, Reason, SendResult

FIVE_MINUTES = 300.0
# The documented schedule written out, not computed: 2 s doubling per failed try, up to
# the five-minute cap from the ninth try on.
CEILING_SECONDS = {1: 2.0, 2: 4.0, 3: 8.0, 4: 16.0, 5: 32.0, 6: 64.0, 7: 128.0, 8: 256.0}


def expected_ceiling(n: int) -> float:
    return CEILING_SECONDS.get(n, FIVE_MINUTES)


attempts = st.integers(min_value=1, max_value=1000)
jitters = st.floats(min_value=0.0, max_value=1.0)


def seconds(delay: timedelta) -> float:
    return delay.total_seconds()


def test_schedule_without_jitter_spread() -> None:
    full = [seconds(retry_delay(n, 1.0)) for n in range(1, 11)]
    assert full == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    half = [seconds(retry_delay(n, 0.0)) for n in range(1, 11)]
    assert half == [1, 2, 4, 8, 16, 32, 64, 128, 150, 150]


@given(attempts, jitters)
def test_delay_is_between_half_and_all_of_the_capped_exponential(n: int, jitter: float) -> None:
    ceiling = expected_ceiling(n)
    delay = seconds(retry_delay(n, jitter))
    assert ceiling / 2 <= delay <= ceiling <= FIVE_MINUTES


@pytest.mark.parametrize(
    ("n", "jitter", "expected"),
    [(1, 0.5, 1.5), (3, 0.25, 5.0), (8, 0.5, 192.0), (9, 0.5, 225.0), (1000, 0.0, 150.0)],
)
def test_jitter_scales_the_delay_linearly_between_half_and_all(
    n: int, jitter: float, expected: float
) -> None:
    assert seconds(retry_delay(n, jitter)) == pytest.approx(expected)


@given(attempts, jitters)
def test_delay_never_shrinks_as_attempts_grow(n: int, jitter: float) -> None:
    assert retry_delay(n, jitter) <= retry_delay(n + 1, jitter)


@given(attempts, jitters, jitters)
def test_more_jitter_never_means_sooner(n: int, low: float, high: float) -> None:
    low, high = sorted((low, high))
    assert retry_delay(n, low) <= retry_delay(n, high)


@pytest.mark.parametrize(("n", "jitter"), [(0, 0.5), (-1, 0.5), (1, -0.1), (1, 1.1)])
def test_out_of_range_inputs_are_refused(n: int, jitter: float) -> None:
    with pytest.raises(ValueError, match=r"must|counts"):
        retry_delay(n, jitter)


def test_retry_after_lengthens_but_is_capped() -> None:
    assert next_attempt_delay(1, 1.0, None) == timedelta(seconds=2)
    assert next_attempt_delay(1, 1.0, 120) == timedelta(seconds=120)
    assert next_attempt_delay(1, 1.0, 0) == timedelta(seconds=2)
    assert next_attempt_delay(1, 1.0, 86400) == timedelta(seconds=FIVE_MINUTES)


def test_final_outcome() -> None:
    retry = SendResult.retry("HTTP 500", Reason.HTTP_STATUS)
    assert final_outcome(retry, 1, 3) == (Outcome.RETRY, "HTTP 500")
    assert final_outcome(retry, 3, 3) == (Outcome.FAILED, "HTTP 500; gave up after 3 attempts")
    assert final_outcome(SendResult.failed("HTTP 404", Reason.HTTP_STATUS), 1, 3) == (
        Outcome.FAILED,
        "HTTP 404; not retried",
    )
    assert final_outcome(SendResult.sent("HTTP 200"), 3, 3) == (Outcome.SENT, "HTTP 200")
