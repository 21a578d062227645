"""The outbox's SQL on the real database: claiming due rows under a lease (disjoint between
claimers, again once a lease runs out), and recording outcomes only while the lease is held,
with the incident's timeline and whether a sent one was its first."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from incident_platform.notification.outbox import ClaimedNotification, claim, settle
from incident_platform.notification.rules import Outcome
from notification.receivers import Outbox

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
HOOK = "https://hooks.example.test/page/0123456789abcdef0123456789abcdef?token=s3cret"


def claimed_one(engine: Engine, at: datetime = NOW) -> ClaimedNotification:
    rows, _ = claim(engine, at, 10, LEASE)
    (row,) = rows
    return row


def test_only_due_pending_unleased_rows_are_claimed_oldest_first_with_their_incidents(
    engine: Engine, outbox: Outbox
) -> None:
    incident = outbox.incident(title="Payments failing", service="checkout")
    later = outbox.notify(incident, "webhook", HOOK, next_attempt_at=NOW - timedelta(minutes=1))
    earlier = outbox.notify(
        incident, "email", "a@example.test", next_attempt_at=NOW - timedelta(minutes=5)
    )
    outbox.notify(
        incident, "email", "future@example.test", next_attempt_at=NOW + timedelta(seconds=1)
    )

    rows, incidents = claim(engine, NOW, 10, LEASE)

    assert sorted(row.id for row in rows) == sorted([earlier, later])
    assert [row.id for row in rows] == sorted(row.id for row in rows), "in id order"
    assert {row.lease_until for row in rows} == {NOW + LEASE}
    assert incidents[incident].title == "Payments failing"
    assert incidents[incident].service == "checkout"
    assert outbox.row(earlier)["lease_until"] == NOW + LEASE


def test_the_limit_takes_the_longest_due_first(engine: Engine, outbox: Outbox) -> None:
    incident = outbox.incident()
    newer = outbox.notify(
        incident, "email", "b@example.test", next_attempt_at=NOW - timedelta(minutes=1)
    )
    older = outbox.notify(
        incident, "email", "a@example.test", next_attempt_at=NOW - timedelta(minutes=9)
    )

    rows, _ = claim(engine, NOW, 1, LEASE)

    assert [row.id for row in rows] == [older]
    assert [row.id for row in claim(engine, NOW, 1, LEASE)[0]] == [newer]


def test_a_leased_row_is_claimed_again_only_once_its_lease_ran_out(
    engine: Engine, outbox: Outbox
) -> None:
    incident = outbox.incident()
    notification = outbox.notify(incident, "email", "a@example.test", next_attempt_at=NOW)
    first = claimed_one(engine)

    assert claim(engine, NOW + LEASE, 10, LEASE) == ([], {}), "a lease holds to its end"
    second = claimed_one(engine, NOW + LEASE + timedelta(seconds=1))

    assert first.id == second.id == notification
    assert second.lease_until == NOW + 2 * LEASE + timedelta(seconds=1)


def test_sent_clears_the_lease_writes_the_timeline_and_says_whether_it_was_the_first(
    engine: Engine, outbox: Outbox
) -> None:
    incident = outbox.incident()
    outbox.notify(incident, "webhook", HOOK, next_attempt_at=NOW)
    outbox.notify(incident, "email", "a@example.test", next_attempt_at=NOW)
    mail, hook = sorted(claim(engine, NOW, 10, LEASE)[0], key=lambda row: row.channel)

    first = settle(engine, mail, Outcome.SENT, "", NOW, NOW + timedelta(seconds=1))
    second = settle(engine, hook, Outcome.SENT, "", NOW, NOW + timedelta(seconds=2))

    assert (first, second) == (True, False)
    stored = outbox.row(hook.id)
    assert (stored["status"], stored["attempts"], stored["lease_until"]) == ("sent", 1, None)
    assert stored["sent_at"] == NOW + timedelta(seconds=2)
    events = outbox.timeline(incident, "notified")
    assert [event["message"] for event in events] == [
        "Notified a@example.test by email",
        f"Notified {hook.shown_address} by webhook",
    ]
    assert "s3cret" not in str(events), "the timeline shows addresses as people may see them"


def test_retry_counts_the_attempt_and_sets_the_next_one(engine: Engine, outbox: Outbox) -> None:
    incident = outbox.incident()
    notification = outbox.notify(incident, "webhook", HOOK, next_attempt_at=NOW)
    row = claimed_one(engine)
    next_attempt = NOW + timedelta(seconds=30)

    assert settle(engine, row, Outcome.RETRY, "HTTP 503", next_attempt, NOW) is False

    stored = outbox.row(notification)
    assert (stored["status"], stored["attempts"], stored["lease_until"]) == ("pending", 1, None)
    assert (stored["next_attempt_at"], stored["last_error"]) == (next_attempt, "HTTP 503")
    assert outbox.timeline(incident) == []
    assert claim(engine, next_attempt, 10, LEASE)[0][0].attempts == 1


def test_failed_is_final_and_on_the_timeline_with_the_attempts(
    engine: Engine, outbox: Outbox
) -> None:
    incident = outbox.incident()
    notification = outbox.notify(incident, "email", "a@example.test", next_attempt_at=NOW)
    row = claimed_one(engine)

    assert settle(engine, row, Outcome.FAILED, "SMTP 550 no such user", NOW, NOW) is False

    stored = outbox.row(notification)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == (
        "failed",
        1,
        "SMTP 550 no such user",
    )
    (event,) = outbox.timeline(incident, "notification_failed")
    assert event["message"] == "Could not notify a@example.test by email: SMTP 550 no such user"
    assert event["data"]["attempts"] == 1
    assert event["data"]["notification_id"] == notification
    assert claim(engine, NOW + timedelta(days=1), 10, LEASE) == ([], {})


def test_a_worker_that_lost_its_lease_records_nothing(engine: Engine, outbox: Outbox) -> None:
    incident = outbox.incident()
    notification = outbox.notify(incident, "email", "a@example.test", next_attempt_at=NOW)
    slow = claimed_one(engine)
    fast = claimed_one(engine, NOW + LEASE + timedelta(seconds=1))  # slow's lease ran out
    assert settle(engine, fast, Outcome.SENT, "", NOW, NOW + LEASE) is True

    for outcome in (Outcome.SENT, Outcome.RETRY, Outcome.FAILED):
        assert settle(engine, slow, outcome, "late", NOW, NOW + LEASE) is None

    stored = outbox.row(notification)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("sent", 1, None)
    assert len(outbox.timeline(incident)) == 1


def test_an_outcome_for_a_vanished_incident_is_not_recorded(engine: Engine, outbox: Outbox) -> None:
    incident = outbox.incident()
    outbox.notify(incident, "email", "a@example.test", next_attempt_at=NOW)
    row = claimed_one(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM incidents WHERE id = %s", (incident,))

    assert settle(engine, row, Outcome.SENT, "", NOW, NOW) is None
    assert settle(engine, row, Outcome.FAILED, "x", NOW, NOW) is None
