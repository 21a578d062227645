"""Delivering the notification outbox: claim under a lease, send concurrently, record.

One call of :func:`deliver_due`:

1. *Claim* up to ``limit`` due rows with ``FOR UPDATE SKIP LOCKED`` and set
   their ``lease_until``, then commit. Concurrent callers (threads, replicas)
   get disjoint rows, and no transaction stays open during network I/O. A
   worker that dies mid-send leaves the lease to lapse; the row is then claimed
   again (delivery is at least once; receivers get ``notification_id`` to
   de-duplicate).
2. *Send* every claimed row from a thread pool of ``notification_concurrency``
   threads, each request bounded by ``notification_timeout_seconds``, so a slow
   or dead receiver holds only its own thread.
3. *Record* each outcome as soon as it is known, in its own short transaction,
   and only while this call still holds the row's lease: sent (+ timeline
   ``notified``), retry later with exponential backoff and jitter, or failed
   (+ timeline ``notification_failed``) on a permanent error or the last
   allowed attempt.
"""

import asyncio
import logging
import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from incident_platform.clock import utc_now
from incident_platform.incident.tables import TimelineKind
from incident_platform.metrics import (
    FIRST_NOTIFICATION_LATENCY,
    NOTIFICATION_ERRORS,
    NOTIFICATIONS_SENT,
)
from incident_platform.notification.messages import (
    IncidentSummary,
    email_message,
    message_context,
    slack_body,
    webhook_body,
)
from incident_platform.notification.models import Channel
from incident_platform.notification.senders import (
    Outcome,
    Reason,
    SendResult,
    display_address,
    make_http_client,
    send_email,
    send_slack,
    send_webhook,
)
from incident_platform.notification.signing import ack_key
from incident_platform.settings import Settings

logger = logging.getLogger(__name__)

ACTOR = "notifier"
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


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Sent or not, but the outcome could not be written (the lease was lost, or the
    # database failed); the row is delivered again once its lease lapses.
    unrecorded: int = 0


@dataclass(frozen=True)
class ClaimedNotification:
    id: int
    incident_id: int
    user_id: uuid.UUID | None
    channel: str
    address: str
    event: str
    step: int | None
    attempts: int
    data: dict[str, Any]
    lease_until: datetime

    @property
    def shown_address(self) -> str:
        return display_address(self.channel, self.address)


_CLAIM = text(
    """
    WITH due AS (
        SELECT id FROM notifications
         WHERE status = 'pending'
           AND next_attempt_at <= :now
           AND (lease_until IS NULL OR lease_until < :now)
         ORDER BY next_attempt_at, id
         LIMIT :limit
           FOR UPDATE SKIP LOCKED
    )
    UPDATE notifications AS n
       SET lease_until = :lease_until
      FROM due
     WHERE n.id = due.id
    RETURNING n.id, n.incident_id, n.user_id, n.channel, n.address, n.event, n.step, n.attempts,
              n.data, n.lease_until
    """
)
_INCIDENTS = text(
    "SELECT id, title, service, severity, status, created_at FROM incidents WHERE id = ANY(:ids)"
)
# Recording happens only while we still hold the lease we took.
_OWNED = "id = :id AND status = 'pending' AND lease_until = :lease_until AND attempts = :attempts"
_MARK_SENT = text(
    "UPDATE notifications SET status = 'sent', sent_at = :at, attempts = attempts + 1,"
    f" lease_until = NULL, last_error = NULL WHERE {_OWNED} RETURNING id"
)
_MARK_RETRY = text(
    "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = :next_attempt_at,"
    f" lease_until = NULL, last_error = :error WHERE {_OWNED} RETURNING id"
)
_MARK_FAILED = text(
    "UPDATE notifications SET status = 'failed', attempts = attempts + 1,"
    f" lease_until = NULL, last_error = :error WHERE {_OWNED} RETURNING id"
)
# Taken before the notification row, the order incident transitions lock in too.
_LOCK_INCIDENT = text("SELECT created_at FROM incidents WHERE id = :id FOR NO KEY UPDATE")
_OTHERS_SENT = text(
    "SELECT EXISTS (SELECT 1 FROM notifications"
    " WHERE incident_id = :incident_id AND status = 'sent' AND id <> :id)"
)
_TIMELINE = text(
    "INSERT INTO timeline_events (incident_id, at, kind, actor, message, data)"
    " VALUES (:incident_id, :at, :kind, :actor, :message, :data)"
).bindparams(bindparam("data", type_=JSONB))


def _claim(
    engine: Engine, settings: Settings, now: datetime, limit: int
) -> tuple[list[ClaimedNotification], dict[int, IncidentSummary]]:
    lease_until = now + timedelta(seconds=settings.notification_lease_seconds)
    with engine.begin() as connection:
        rows = connection.execute(
            _CLAIM, {"now": now, "limit": limit, "lease_until": lease_until}
        ).all()
        claimed = [
            ClaimedNotification(
                id=row.id,
                incident_id=row.incident_id,
                user_id=row.user_id,
                channel=row.channel,
                address=row.address,
                event=row.event,
                step=row.step,
                attempts=row.attempts,
                data=dict(row.data or {}),
                lease_until=row.lease_until,
            )
            for row in sorted(rows, key=lambda row: row.id)
        ]
        incidents: dict[int, IncidentSummary] = {}
        if claimed:
            ids = sorted({row.incident_id for row in claimed})
            for row in connection.execute(_INCIDENTS, {"ids": ids}):
                incidents[row.id] = IncidentSummary(
                    id=row.id,
                    title=row.title,
                    service=row.service,
                    severity=row.severity,
                    status=row.status,
                    created_at=row.created_at,
                )
    return claimed, incidents


def _repeat(data: dict[str, Any]) -> int | None:
    value = data.get("repeat")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _attempt(
    settings: Settings,
    row: ClaimedNotification,
    incident: IncidentSummary | None,
    client: httpx.Client,
    clock: Callable[[], datetime],
) -> SendResult:
    """Build and send one message. Never raises: a surprise is logged and retried."""
    try:
        if incident is None:
            return SendResult.failed("incident no longer exists", Reason.INCIDENT_GONE)
        context = message_context(
            settings,
            incident,
            notification_id=row.id,
            event=row.event,
            step=row.step,
            repeat=_repeat(row.data),
            now=clock(),
        )
        if row.channel == Channel.WEBHOOK:
            return send_webhook(client, row.address, webhook_body(context))
        if row.channel == Channel.SLACK:
            return send_slack(client, row.address, slack_body(context))
        if row.channel == Channel.EMAIL:
            try:
                message = email_message(context, sender=settings.smtp_from, recipient=row.address)
            except ValueError as error:
                return SendResult.failed(
                    f"unusable e-mail address: {error}", Reason.INVALID_ADDRESS
                )
            return send_email(settings, message, row.address)
        return SendResult.failed(f"unknown channel {row.channel!r}", Reason.UNKNOWN_CHANNEL)
    except Exception as error:
        logger.exception("notification %s: unexpected error while sending", row.id)
        return SendResult.retry(f"internal error ({type(error).__name__})", Reason.INTERNAL)


def _scrub(detail: str, row: ClaimedNotification) -> str:
    """Error text without the raw address (a URL may carry a token)."""
    if row.channel != Channel.EMAIL and row.address:
        detail = detail.replace(row.address, row.shown_address)
    return detail[:1000]


def final_outcome(result: SendResult, attempts: int, max_attempts: int) -> tuple[Outcome, str]:
    """The outcome to record after the ``attempts``-th try, and the reason to store."""
    if result.outcome is Outcome.RETRY and attempts >= max_attempts:
        return Outcome.FAILED, f"{result.detail}; gave up after {attempts} attempts"
    if result.outcome is Outcome.FAILED:
        return Outcome.FAILED, f"{result.detail}; not retried"
    return result.outcome, result.detail


def _settle(
    engine: Engine,
    row: ClaimedNotification,
    outcome: Outcome,
    reason: str,
    next_attempt_at: datetime,
    at: datetime,
) -> bool | None:
    """Write one outcome. For a sent one, whether it was the incident's first sent
    notification; None if the row was no longer ours to record."""
    owned = {"id": row.id, "lease_until": row.lease_until, "attempts": row.attempts}
    with engine.begin() as connection:
        if outcome is Outcome.RETRY:
            done = connection.execute(
                _MARK_RETRY, {**owned, "next_attempt_at": next_attempt_at, "error": reason}
            ).first()
            return False if done else None
        if connection.execute(_LOCK_INCIDENT, {"id": row.incident_id}).first() is None:
            return None
        if outcome is Outcome.SENT:
            if connection.execute(_MARK_SENT, {**owned, "at": at}).first() is None:
                return None
            # Recorders of one incident serialise on its row lock, so exactly one sees
            # no other sent notification.
            first = not connection.execute(
                _OTHERS_SENT, {"incident_id": row.incident_id, "id": row.id}
            ).scalar_one()
            _timeline(
                connection,
                row,
                at,
                TimelineKind.NOTIFIED,
                f"Notified {row.shown_address} by {row.channel}",
                {},
            )
            return bool(first)
        if connection.execute(_MARK_FAILED, {**owned, "error": reason}).first() is None:
            return None
        _timeline(
            connection,
            row,
            at,
            TimelineKind.NOTIFICATION_FAILED,
            f"Could not notify {row.shown_address} by {row.channel}: {reason}",
            {"attempts": row.attempts + 1, "error": reason},
        )
        return False


def _timeline(
    connection: Connection,
    row: ClaimedNotification,
    at: datetime,
    kind: TimelineKind,
    message: str,
    extra: dict[str, Any],
) -> None:
    data = {
        "notification_id": row.id,
        "channel": row.channel,
        "address": row.shown_address,
        "step": row.step,
        **({"user_id": str(row.user_id)} if row.user_id is not None else {}),
        **extra,
    }
    connection.execute(
        _TIMELINE,
        {
            "incident_id": row.incident_id,
            "at": at,
            "kind": kind.value,
            "actor": ACTOR,
            "message": message,
            "data": data,
        },
    )


def _fixed_clock(now: datetime) -> Callable[[], datetime]:
    return lambda: now


def deliver_due(
    engine: Engine,
    settings: Settings,
    now: datetime | None = None,
    *,
    limit: int = 100,
    jitter: Callable[[], float] = random.random,
    http_client: httpx.Client | None = None,
) -> DeliveryReport:
    """Deliver up to ``limit`` due notifications; returns once every outcome is recorded.

    ``now`` fixes the clock (claiming, sent_at, backoff, message times) for tests;
    by default the wall clock is read as each step happens. Safe to call from
    several threads or replicas at once. Blocks for at most about one send
    timeout (HTTP) or a few (SMTP) beyond the database work: call it from a
    worker thread, or use :func:`deliver_due_async`.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if now is not None and (now.tzinfo is None or now.utcoffset() is None):
        raise ValueError("now must be timezone-aware")
    ack_key(settings)  # no key, no links: fail before leasing anything
    clock = _fixed_clock(now) if now is not None else utc_now
    report = DeliveryReport()
    rows, incidents = _claim(engine, settings, clock(), limit)
    report.claimed = len(rows)
    if not rows:
        return report
    client = http_client if http_client is not None else make_http_client(settings)
    try:
        workers = min(settings.notification_concurrency, len(rows))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify") as pool:
            futures = {
                pool.submit(
                    _attempt, settings, row, incidents.get(row.incident_id), client, clock
                ): row
                for row in rows
            }
            # In completion order: a fast receiver's outcome is written while a slow
            # one is still being waited for.
            for future in as_completed(futures):
                row = futures[future]
                _record(
                    engine,
                    settings,
                    row,
                    incidents.get(row.incident_id),
                    future.result(),
                    clock(),
                    jitter,
                    report,
                )
    finally:
        if http_client is None:
            client.close()
    return report


async def deliver_due_async(
    engine: Engine,
    settings: Settings,
    now: datetime | None = None,
    *,
    limit: int = 100,
) -> DeliveryReport:
    """:func:`deliver_due` in a worker thread, for callers on an event loop."""
    return await asyncio.to_thread(deliver_due, engine, settings, now, limit=limit)


def _record(
    engine: Engine,
    settings: Settings,
    row: ClaimedNotification,
    incident: IncidentSummary | None,
    result: SendResult,
    at: datetime,
    jitter: Callable[[], float],
    report: DeliveryReport,
) -> None:
    attempts = row.attempts + 1
    result = SendResult(
        result.outcome, _scrub(result.detail, row), result.retry_after, result.reason
    )
    outcome, reason = final_outcome(result, attempts, settings.notification_max_attempts)
    # Counted whether or not the outcome can be written: the attempt happened.
    NOTIFICATIONS_SENT.labels(channel=row.channel, outcome=outcome.value).inc()
    if outcome is not Outcome.SENT:
        NOTIFICATION_ERRORS.labels(channel=row.channel, reason=result.reason.value).inc()
    next_attempt_at = at + next_attempt_delay(attempts, jitter(), result.retry_after)
    try:
        first = _settle(engine, row, outcome, reason, next_attempt_at, at)
    except Exception:
        # The lease lapses and the row goes again; the other rows are still recorded.
        logger.exception("notification %s: outcome %s not recorded", row.id, outcome.value)
        report.unrecorded += 1
        return
    if first is None:
        logger.warning("notification %s: lease lost before recording %s", row.id, outcome.value)
        report.unrecorded += 1
        return
    log = logger.warning if outcome is Outcome.FAILED else logger.info
    log(
        "notification %s for incident %s to %s by %s: %s (%s)",
        row.id,
        row.incident_id,
        row.shown_address,
        row.channel,
        outcome.value,
        reason,
    )
    if outcome is Outcome.SENT:
        report.sent += 1
    elif outcome is Outcome.RETRY:
        report.retried += 1
    else:
        report.failed += 1
    if first and incident is not None:
        seconds = max((at - incident.created_at).total_seconds(), 0.0)
        FIRST_NOTIFICATION_LATENCY.labels(
            service=incident.service, severity=incident.severity
        ).observe(seconds)
