"""The outbox delivered to real receivers: claims, retries, failures, timeline and metrics."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from incident_platform.db import make_engine
from incident_platform.notification.delivery import DeliveryReport, deliver_due
from incident_platform.notification.signing import AckKeyMissing, verify_ack_token
from incident_platform.settings import Settings
from notification.receivers import (
    WAIT_SECONDS,
    HttpReceiver,
    MakeSettings,
    Outbox,
    SmtpReceiver,
    wait_until,
)
from support.database import connect

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
KEY = b"test-ack-signing-key-0123456789abcdef"
FULL_JITTER = 1.0


def deliver(
    engine: Engine, settings: Settings, now: datetime = T0, limit: int = 100
) -> DeliveryReport:
    return deliver_due(engine, settings, now, limit=limit, jitter=lambda: FULL_JITTER)


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def ack_token(url: str) -> str:
    prefix = "https://oncall.example.test/api/v1/ack/"
    assert url.startswith(prefix), url
    return url.removeprefix(prefix)


def test_webhook_delivery_body_and_timeline(
    engine: Engine, settings: Settings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    incident = outbox.incident(title="Payments failing", service="checkout")
    url = receiver.answer("/hook")
    notification = outbox.notify(
        incident, "webhook", url, step=2, next_attempt_at=T0, data={"repeat": 1}
    )

    report = deliver(engine, settings)

    assert report == DeliveryReport(claimed=1, sent=1)
    (request,) = receiver.to("/hook")
    body = request.json
    assert body["event"] == "escalation"
    assert body["notification_id"] == notification
    assert (body["step"], body["repeat"]) == (2, 1)
    assert body["sent_at"] == "2030-03-01T12:00:00Z"
    assert body["incident"] == {
        "id": incident,
        "title": "Payments failing",
        "service": "checkout",
        "severity": "critical",
        "status": "triggered",
        "created_at": body["incident"]["created_at"],
        "url": f"https://incidents.example.test/api/v1/incidents/{incident}",
    }
    assert verify_ack_token(ack_token(body["ack_url"]), KEY, T0) == incident

    row = outbox.row(notification)
    assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 1, T0)
    assert row["lease_until"] is None
    assert row["last_error"] is None
    (entry,) = outbox.timeline(incident)
    assert entry["kind"] == "notified"
    assert entry["actor"] == "notifier"
    assert entry["message"] == f"Notified {url} by webhook"
    assert entry["data"] == {
        "notification_id": notification,
        "channel": "webhook",
        "address": url,
        "step": 2,
    }
    # Delivered once: nothing is due any more.
    assert deliver(engine, settings, T0 + timedelta(hours=1)) == DeliveryReport()


def test_slack_delivery_keeps_the_webhook_secret_out_of_the_timeline(
    engine: Engine, settings: Settings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    incident = outbox.incident(title="<!here> db down")
    url = receiver.answer("/services/T000/B000/s3cretpath")
    outbox.notify(incident, "slack", url, next_attempt_at=T0)

    assert deliver(engine, settings).sent == 1

    (request,) = receiver.to("/services/T000/B000/s3cretpath")
    body = request.json
    assert "&lt;!here&gt; db down" in body["text"]
    buttons = [
        element
        for block in body["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    ack = next(button["url"] for button in buttons if button["action_id"] == "acknowledge")
    assert verify_ack_token(ack_token(ack), KEY, T0) == incident
    (entry,) = outbox.timeline(incident, "notified")
    assert entry["message"] == f"Notified {receiver.url}/… by slack"
    assert "s3cret" not in str(entry)


def test_email_delivery_through_real_smtp(
    engine: Engine, settings: Settings, outbox: Outbox, smtp: SmtpReceiver
) -> None:
    incident = outbox.incident(title="Latency over SLO", service="search", severity="high")
    alice = outbox.user("Alice", "alice@example.test")
    outbox.notify(incident, "email", "alice@example.test", next_attempt_at=T0, user_id=alice)

    assert deliver_due(engine, settings, T0).sent == 1

    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["alice@example.test"]
    assert mail.mail_from == "pager@example.test"
    assert mail.message["To"] == "alice@example.test"
    assert mail.message["Subject"] == f"[HIGH] search: Latency over SLO (#{incident})"
    text = mail.message.get_content()
    match = re.search(r"https://oncall\.example\.test/api/v1/ack/(\S+)", text)
    assert match is not None
    assert verify_ack_token(match.group(1), KEY, T0) == incident
    (entry,) = outbox.timeline(incident)
    assert entry["message"] == "Notified alice@example.test by email"
    assert entry["data"]["user_id"] == str(alice)


def test_server_error_is_retried_later_then_sent(
    engine: Engine, settings: Settings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    incident = outbox.incident()
    url = receiver.answer("/flaky", 500, 200)
    notification = outbox.notify(incident, "webhook", url, next_attempt_at=T0)
    retried = counted("notifications_sent_total", channel="webhook", outcome="retry")
    sent = counted("notifications_sent_total", channel="webhook", outcome="sent")

    assert deliver(engine, settings) == DeliveryReport(claimed=1, retried=1)
    row = outbox.row(notification)
    assert (row["status"], row["attempts"], row["lease_until"]) == ("pending", 1, None)
    assert row["next_attempt_at"] == T0 + timedelta(seconds=2)  # 2**1 s, full jitter
    assert row["last_error"].startswith("HTTP 500")
    assert outbox.timeline(incident) == []
    assert counted("notifications_sent_total", channel="webhook", outcome="retry") == retried + 1

    # Not due before its backoff has passed.
    assert deliver(engine, settings, T0 + timedelta(seconds=1)) == DeliveryReport()
    assert len(receiver.to("/flaky")) == 1

    assert deliver(engine, settings, T0 + timedelta(seconds=2)) == DeliveryReport(claimed=1, sent=1)
    row = outbox.row(notification)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert [entry["kind"] for entry in outbox.timeline(incident)] == ["notified"]
    assert len(receiver.to("/flaky")) == 2
    assert counted("notifications_sent_total", channel="webhook", outcome="sent") == sent + 1


def test_retry_after_from_the_receiver_is_honoured(
    engine: Engine, settings: Settings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    incident = outbox.incident()
    url = receiver.answer("/busy", 503, Retry_After="120")
    notification = outbox.notify(incident, "webhook", url, next_attempt_at=T0)
    assert deliver(engine, settings).retried == 1
    assert outbox.row(notification)["next_attempt_at"] == T0 + timedelta(seconds=120)


def test_permanent_client_error_fails_at_once(
    engine: Engine, settings: Settings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    incident = outbox.incident()
    url = receiver.answer("/gone", 404)
    notification = outbox.notify(incident, "webhook", url, step=3, next_attempt_at=T0)
    failed = counted("notifications_sent_total", channel="webhook", outcome="failed")

    assert deliver(engine, settings) == DeliveryReport(claimed=1, failed=1)

    row = outbox.row(notification)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert row["last_error"] == "HTTP 404 Not Found; not retried"
    (entry,) = outbox.timeline(incident)
    assert entry["kind"] == "notification_failed"
    assert entry["message"] == f"Could not notify {url} by webhook: HTTP 404 Not Found; not retried"
    assert entry["data"]["notification_id"] == notification
    assert entry["data"]["step"] == 3
    assert entry["data"]["attempts"] == 1
    assert counted("notifications_sent_total", channel="webhook", outcome="failed") == failed + 1
    assert deliver(engine, settings, T0 + timedelta(days=1)) == DeliveryReport()
    assert len(receiver.to("/gone")) == 1


def test_gives_up_after_max_attempts(
    engine: Engine, make_settings: MakeSettings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    settings = make_settings(notification_max_attempts=3)
    incident = outbox.incident()
    url = receiver.answer("/down", 500)
    notification = outbox.notify(incident, "webhook", url, next_attempt_at=T0)

    now = T0
    reports = []
    for _ in range(4):
        reports.append(deliver(engine, settings, now))
        now += timedelta(minutes=6)

    assert reports == [
        DeliveryReport(claimed=1, retried=1),
        DeliveryReport(claimed=1, retried=1),
        DeliveryReport(claimed=1, failed=1),
        DeliveryReport(),
    ]
    row = outbox.row(notification)
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert len(receiver.to("/down")) == 3
    (entry,) = outbox.timeline(incident)
    assert entry["kind"] == "notification_failed"
    assert "HTTP 500" in entry["message"]
    assert "gave up after 3 attempts" in entry["message"]


def test_smtp_permanent_and_temporary_refusals(
    engine: Engine, settings: Settings, outbox: Outbox, smtp: SmtpReceiver
) -> None:
    smtp.handler.refuse["gone@example.test"] = "550 5.1.1 no such user"
    smtp.handler.refuse["full@example.test"] = "452 4.2.2 mailbox full"
    incident = outbox.incident()
    gone = outbox.notify(incident, "email", "gone@example.test", next_attempt_at=T0)
    full = outbox.notify(incident, "email", "full@example.test", next_attempt_at=T0)

    assert deliver(engine, settings) == DeliveryReport(claimed=2, retried=1, failed=1)

    assert outbox.row(gone)["status"] == "failed"
    assert outbox.row(full)["status"] == "pending"
    assert outbox.row(full)["last_error"].startswith("SMTP 452")
    (entry,) = outbox.timeline(incident)
    assert entry["message"].startswith("Could not notify gone@example.test by email: SMTP 550")


def test_unusable_rows_fail_instead_of_looping(
    engine: Engine, settings: Settings, outbox: Outbox
) -> None:
    incident = outbox.incident()
    pager = outbox.notify(incident, "pager", "+15550100", next_attempt_at=T0)
    bad_url = outbox.notify(incident, "webhook", "ftp://example.test/x", next_attempt_at=T0)
    bad_mail = outbox.notify(incident, "email", "a@x.test\nBcc: b@y.test", next_attempt_at=T0)
    assert deliver(engine, settings) == DeliveryReport(claimed=3, failed=3)
    assert "unknown channel" in outbox.row(pager)["last_error"]
    assert "URL" in outbox.row(bad_url)["last_error"]
    assert "e-mail address" in outbox.row(bad_mail)["last_error"]
    assert len(outbox.timeline(incident, "notification_failed")) == 3


def test_a_hanging_receiver_does_not_hold_up_a_fast_one(
    engine: Engine, settings: Settings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    incident = outbox.incident()
    slow_url = receiver.answer("/slow", 200, hang_seconds=WAIT_SECONDS * 2)
    fast_url = receiver.answer("/fast", 200)
    # The slow one first, so a sequential sender would be stuck behind it.
    slow = outbox.notify(incident, "webhook", slow_url, next_attempt_at=T0)
    fast = outbox.notify(incident, "webhook", fast_url, next_attempt_at=T0)
    reports: list[DeliveryReport] = []
    worker = threading.Thread(target=lambda: reports.append(deliver(engine, settings)))
    worker.start()
    try:
        wait_until(lambda: outbox.row(fast)["status"] == "sent", "the fast row to be recorded")
        # Recorded while the slow receiver is still sitting on its request.
        assert ("answered", "/slow") not in receiver.log()
        assert ("received", "/slow") in receiver.log()
        assert outbox.row(slow)["status"] == "pending"
        # Leased: another caller meanwhile does not pick the slow row up again.
        assert deliver(engine, settings) == DeliveryReport()
    finally:
        receiver.release.set()
        worker.join(WAIT_SECONDS)
    assert reports == [DeliveryReport(claimed=2, sent=2)]
    log = receiver.log()
    assert log.index(("answered", "/fast")) < log.index(("answered", "/slow"))
    assert len(receiver.to("/slow")) == 1


def test_a_receiver_that_times_out_is_retried(
    engine: Engine, make_settings: MakeSettings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    settings = make_settings(notification_timeout_seconds=0.2)
    incident = outbox.incident()
    url = receiver.answer("/hang", 200, hang_seconds=WAIT_SECONDS * 2)
    notification = outbox.notify(incident, "webhook", url, next_attempt_at=T0)
    assert deliver(engine, settings) == DeliveryReport(claimed=1, retried=1)
    assert outbox.row(notification)["last_error"].startswith("timeout")


def test_concurrency_is_bounded(
    engine: Engine, make_settings: MakeSettings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    settings = make_settings(notification_concurrency=2)
    incident = outbox.incident()
    url = receiver.answer("/hook", 200, hang_seconds=0.05)
    for _ in range(6):
        outbox.notify(incident, "webhook", url, next_attempt_at=T0)
    assert deliver(engine, settings).sent == 6
    assert 1 <= receiver.max_inflight <= 2


def test_two_concurrent_deliverers_send_each_row_exactly_once(
    engine: Engine, settings: Settings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    url = receiver.answer("/hook", 200)
    incidents = [outbox.incident(service=f"svc-{n}") for n in range(4)]
    rows = {outbox.notify(incidents[n % 4], "webhook", url, next_attempt_at=T0) for n in range(40)}
    start = threading.Barrier(2)
    reports: list[DeliveryReport] = []
    lock = threading.Lock()

    def drain() -> None:
        start.wait(WAIT_SECONDS)
        while True:
            report = deliver(engine, settings, limit=3)
            with lock:
                reports.append(report)
            if report.claimed == 0:
                return

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS * 3)

    delivered = [request.json["notification_id"] for request in receiver.to("/hook")]
    assert sorted(delivered) == sorted(rows)
    assert sum(report.sent for report in reports) == 40
    assert sum(report.unrecorded for report in reports) == 0
    assert all(outbox.row(row)["status"] == "sent" for row in rows)
    notified = [entry for i in incidents for entry in outbox.timeline(i, "notified")]
    assert sorted(entry["data"]["notification_id"] for entry in notified) == sorted(rows)


def test_a_lapsed_lease_is_taken_over(
    engine: Engine, settings: Settings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    """A worker that died mid-delivery leaves its lease; the row goes again once it lapses."""
    incident = outbox.incident()
    url = receiver.answer("/hook", 200)
    notification = outbox.notify(incident, "webhook", url, next_attempt_at=T0)
    with connect(outbox.url) as connection:
        connection.execute(
            "UPDATE notifications SET lease_until = %s WHERE id = %s",
            (T0 + timedelta(seconds=30), notification),
        )
    assert deliver(engine, settings, T0 + timedelta(seconds=29)) == DeliveryReport()
    assert deliver(engine, settings, T0 + timedelta(seconds=31)) == DeliveryReport(
        claimed=1, sent=1
    )
    assert outbox.row(notification)["sent_at"] == T0 + timedelta(seconds=31)


def test_an_outcome_is_not_written_once_the_lease_is_lost(
    engine: Engine, settings: Settings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    incident = outbox.incident()
    url = receiver.answer("/slow", 200, hang_seconds=WAIT_SECONDS * 2)
    notification = outbox.notify(incident, "webhook", url, next_attempt_at=T0)
    reports: list[DeliveryReport] = []
    worker = threading.Thread(target=lambda: reports.append(deliver(engine, settings)))
    worker.start()
    try:
        wait_until(lambda: bool(receiver.to("/slow")), "the request to arrive")
        # Another worker took the row over after our lease (say we stalled past it).
        with connect(outbox.url) as connection:
            connection.execute(
                "UPDATE notifications SET lease_until = lease_until + interval '1 minute'"
                " WHERE id = %s",
                (notification,),
            )
    finally:
        receiver.release.set()
        worker.join(WAIT_SECONDS)
    assert reports == [DeliveryReport(claimed=1, unrecorded=1)]
    row = outbox.row(notification)
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert outbox.timeline(incident) == []


def test_first_notification_latency_is_observed_once_per_incident(
    engine: Engine, settings: Settings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    labels = {"service": "latency-probe", "severity": "warning"}
    before = counted("incident_first_notification_seconds_count", **labels)
    under_5s = counted("incident_first_notification_seconds_bucket", le="5.0", **labels)
    under_2s = counted("incident_first_notification_seconds_bucket", le="2.5", **labels)
    incident = outbox.incident(
        service="latency-probe", severity="warning", created_at=T0 - timedelta(seconds=3)
    )
    url = receiver.answer("/hook", 200)
    for _ in range(3):
        outbox.notify(incident, "webhook", url, next_attempt_at=T0)

    assert deliver(engine, settings).sent == 3
    outbox.notify(incident, "webhook", url, next_attempt_at=T0 + timedelta(minutes=1))
    assert deliver(engine, settings, T0 + timedelta(minutes=1)).sent == 1

    assert counted("incident_first_notification_seconds_count", **labels) == before + 1
    assert counted("incident_first_notification_seconds_sum", **labels) >= 3.0
    assert counted("incident_first_notification_seconds_bucket", le="5.0", **labels) == under_5s + 1
    assert counted("incident_first_notification_seconds_bucket", le="2.5", **labels) == under_2s
    assert len(outbox.timeline(incident, "notified")) == 4


def test_without_a_signing_key_nothing_is_claimed(
    engine: Engine, make_settings: MakeSettings, outbox: Outbox, receiver: HttpReceiver
) -> None:
    incident = outbox.incident()
    notification = outbox.notify(incident, "webhook", receiver.answer("/hook"), next_attempt_at=T0)
    with pytest.raises(AckKeyMissing):
        deliver(engine, make_settings(ack_signing_key=None))
    assert outbox.row(notification)["lease_until"] is None
    assert receiver.to("/hook") == []


def test_naive_now_is_refused(engine: Engine, settings: Settings) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deliver_due(engine, settings, datetime(2030, 1, 1))


def test_database_outage_while_claiming_propagates(
    make_settings: MakeSettings, settings: Settings
) -> None:
    """The runner tells outages from bugs with ``is_outage``: the driver's error comes out."""
    dead = make_engine(make_settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    try:
        with pytest.raises(OperationalError):
            deliver(dead, settings)
    finally:
        dead.dispose()
