"""Send results: what each constructor says about the attempt, and what it leaves out."""

from incident_platform.notification.rules import Outcome, Reason, SendResult


def test_sent_has_no_reason_and_no_wait() -> None:
    assert SendResult.sent("250 OK") == SendResult(Outcome.SENT, "250 OK", None, Reason.NONE)


def test_retry_keeps_the_reason_and_the_receivers_wait() -> None:
    result = SendResult.retry("503", Reason.SMTP, retry_after=7.5)
    assert (result.outcome, result.reason, result.retry_after) == (Outcome.RETRY, Reason.SMTP, 7.5)
    assert SendResult.retry("timeout", Reason.SMTP).retry_after is None


def test_failed_never_asks_to_wait() -> None:
    result = SendResult.failed("no such user", Reason.INVALID_ADDRESS)
    assert result == SendResult(Outcome.FAILED, "no such user", None, Reason.INVALID_ADDRESS)
