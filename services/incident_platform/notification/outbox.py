"""The notification outbox's SQL: claiming due rows under a lease, and recording outcomes.

Recording happens only while the caller still holds the lease it took, so a worker
that lost its lease never overwrites another's outcome.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from incident_platform.incident.tables import TimelineKind
from incident_platform.notification.messages import IncidentSummary
from incident_platform.notification.rules import Outcome
from incident_platform.notification.senders import display_address

ACTOR = "notifier"


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


def claim(
    engine: Engine, now: datetime, limit: int, lease: timedelta
) -> tuple[list[ClaimedNotification], dict[int, IncidentSummary]]:
    """Leases up to ``limit`` due rows (``FOR UPDATE SKIP LOCKED``: concurrent callers get
    disjoint rows) and commits; returns them with their incidents."""
    lease_until = now + lease
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


def settle(
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
