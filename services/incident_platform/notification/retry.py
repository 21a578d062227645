"""When a failed notification is tried again, and when it is given up: pure rules."""

from datetime import timedelta

from incident_platform.notification.rules import Outcome, SendResult

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0


def retry_delay(attempts: int, jitter: float) -> timedelta:
    """How long to wait after the ``attempts``-th failed try (1 for the first).

    ``2 ** attempts`` seconds, capped at five minutes, scaled by ``0.5 + jitter / 2``
    for ``jitter`` in [0, 1]: between half and all of the exponential delay, so
    retries of many rows spread out but never come sooner than half the schedule.
    """
    if attempts < 1:
        raise ValueError("attempts counts failed tries and starts at 1")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be within [0, 1]")
    ceiling = min(BACKOFF_BASE_SECONDS ** min(attempts, 32), BACKOFF_CAP_SECONDS)
    return timedelta(seconds=ceiling * (0.5 + jitter / 2))


def next_attempt_delay(attempts: int, jitter: float, retry_after: float | None) -> timedelta:
    """:func:`retry_delay`, or longer when the receiver asked (Retry-After, also capped)."""
    delay = retry_delay(attempts, jitter)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=min(retry_after, BACKOFF_CAP_SECONDS)))
    return delay


def final_outcome(result: SendResult, attempts: int, max_attempts: int) -> tuple[Outcome, str]:
    """The outcome to record after the ``attempts``-th try, and the reason to store."""
    if result.outcome is Outcome.RETRY and attempts >= max_attempts:
        return Outcome.FAILED, f"{result.detail}; gave up after {attempts} attempts"
    if result.outcome is Outcome.FAILED:
        return Outcome.FAILED, f"{result.detail}; not retried"
    return result.outcome, result.detail
