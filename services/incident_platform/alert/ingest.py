"""Carries out correlation decisions in PostgreSQL, a whole batch per transaction.

A batch costs three round trips whatever its size: read the state (pipelined
with BEGIN), send every write as one pipeline, commit. Each write re-checks the
state its decision was planned on (``ON CONFLICT DO NOTHING`` on the partial
unique indexes, ``WHERE status = ...`` guards, row locks on the incident); if any
check fails because another writer got there first, the transaction is rolled
back and the batch is planned again from a fresh read. Nothing is written twice
and the one-open-incident-per-service rule holds across processes and replicas.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import Engine

from incident_platform.alert.correlation import AlertSignal, CorrelationState, plan_batch
from incident_platform.alert.models import IngestAction
from incident_platform.db import DatabaseUnavailable
from incident_platform.metrics import ALERTS_RECEIVED, observe_resolved

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
OPEN = "('triggered', 'acknowledged')"
SEVERITY_ORDER = "ARRAY['info', 'warning', 'high', 'critical']"


@dataclass(frozen=True, slots=True)
class ResolvedIncident:
    """An incident this batch closed automatically: what the MTTR metric needs."""

    id: int
    service: str
    severity: str
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    action: IngestAction
    alert_id: int | None
    incident_id: int | None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    outcomes: list[IngestOutcome]
    auto_resolved: list[ResolvedIncident]


class PlanInvalidated(Exception):
    """The database changed between the read and the write; plan again."""


_READ_STATE = f"""
SELECT 'fingerprint' AS kind, fingerprint AS key FROM alerts
 WHERE status = 'firing' AND fingerprint = ANY(%(fingerprints)s)
UNION ALL
SELECT 'service', service FROM incidents
 WHERE status IN {OPEN} AND service = ANY(%(services)s)
"""

_NEW_ALERT_COLUMNS = """
    incident_id, integration_id, service, summary, severity, source, description, status,
    fingerprint, labels, annotations, occurrences, starts_at, ends_at
"""
_NEW_ALERT_VALUES = """
    %(integration_id)s, %(service)s, %(summary)s, %(severity)s, %(source)s, %(description)s,
    'firing', %(fingerprint)s, %(labels)s, %(annotations)s, 1, %(starts_at)s, %(ends_at)s
"""

_CREATE = f"""
WITH inc AS (
    INSERT INTO incidents (title, service, severity, status, alert_count)
    VALUES (%(summary)s, %(service)s, %(severity)s, 'triggered', 1)
    ON CONFLICT (service) WHERE status IN {OPEN} DO NOTHING
    RETURNING id
), al AS (
    INSERT INTO alerts ({_NEW_ALERT_COLUMNS})
    SELECT inc.id, {_NEW_ALERT_VALUES} FROM inc
    ON CONFLICT (fingerprint) WHERE status = 'firing' DO NOTHING
    RETURNING id, incident_id
), timeline AS (
    INSERT INTO timeline_events (incident_id, kind, actor, message, data)
    SELECT al.incident_id, 'created', %(actor)s, 'Incident opened by alert: ' || %(summary)s,
           jsonb_build_object('alert_id', al.id, 'fingerprint', %(fingerprint)s)
      FROM al
)
SELECT id, incident_id FROM al
"""

_ATTACH = f"""
WITH previous AS (
    SELECT id, severity FROM incidents
     WHERE service = %(service)s AND status IN {OPEN}
     FOR UPDATE
), inc AS (
    UPDATE incidents AS i
       SET alert_count = i.alert_count + 1,
           severity = CASE
               WHEN array_position({SEVERITY_ORDER}, %(severity)s::text)
                  > array_position({SEVERITY_ORDER}, i.severity::text)
               THEN %(severity)s ELSE i.severity END,
           updated_at = now(),
           change_seq = nextval('incident_change_seq')
      FROM previous
     WHERE i.id = previous.id
 RETURNING i.id, previous.severity AS previous_severity, i.severity
), al AS (
    INSERT INTO alerts ({_NEW_ALERT_COLUMNS})
    SELECT inc.id, {_NEW_ALERT_VALUES} FROM inc
    ON CONFLICT (fingerprint) WHERE status = 'firing' DO NOTHING
    RETURNING id, incident_id
), timeline AS (
    INSERT INTO timeline_events (incident_id, kind, actor, message, data)
    SELECT al.incident_id, 'alert_attached', %(actor)s, 'Alert attached: ' || %(summary)s,
           jsonb_build_object('alert_id', al.id, 'fingerprint', %(fingerprint)s)
      FROM al
    UNION ALL
    SELECT inc.id, 'severity_changed', %(actor)s,
           'Severity raised from ' || inc.previous_severity || ' to ' || inc.severity,
           jsonb_build_object('from', inc.previous_severity, 'to', inc.severity,
                              'alert_id', al.id)
      FROM inc JOIN al ON true
     WHERE inc.severity <> inc.previous_severity
)
SELECT id, incident_id FROM al
"""

_DEDUPLICATE = """
UPDATE alerts SET occurrences = occurrences + 1, last_seen_at = now()
 WHERE fingerprint = %(fingerprint)s AND status = 'firing'
RETURNING id, incident_id
"""

# Taken before resolving so that two resolves of an incident's last alerts are
# serialised: the second one then sees the first and closes the incident.
_LOCK_INCIDENT_OF_FIRING_ALERT = """
SELECT i.id FROM incidents i JOIN alerts a ON a.incident_id = i.id
 WHERE a.fingerprint = %(fingerprint)s AND a.status = 'firing'
   FOR UPDATE OF i
"""

_RESOLVE = f"""
WITH al AS (
    UPDATE alerts
       SET status = 'resolved', resolved_at = now(), last_seen_at = now(),
           ends_at = coalesce(%(ends_at)s, now())
     WHERE fingerprint = %(fingerprint)s AND status = 'firing'
 RETURNING id, incident_id
), inc AS (
    UPDATE incidents AS i
       SET status = 'resolved', resolved_at = now(), updated_at = now(),
           change_seq = nextval('incident_change_seq')
      FROM al
     WHERE %(auto_resolve)s
       AND i.id = al.incident_id
       AND i.status IN {OPEN}
       AND NOT EXISTS (
           SELECT 1 FROM alerts f
            WHERE f.incident_id = al.incident_id AND f.status = 'firing' AND f.id <> al.id)
 RETURNING i.id, i.service, i.severity, i.created_at, i.acknowledged_at, i.resolved_at,
           i.alert_count
), timeline AS (
    -- One INSERT so the alert's entry gets the lower id and reads first.
    INSERT INTO timeline_events (incident_id, kind, actor, message, data)
    SELECT al.incident_id, 'alert_resolved', %(actor)s, 'Alert resolved: ' || %(summary)s,
           jsonb_build_object('alert_id', al.id, 'fingerprint', %(fingerprint)s)
      FROM al
    UNION ALL
    SELECT inc.id, 'auto_resolved', 'system',
           'Auto-resolved: all ' || inc.alert_count || ' alerts resolved',
           jsonb_build_object('last_alert_id', al.id)
      FROM inc JOIN al ON true
)
SELECT al.id, al.incident_id, inc.service, inc.severity, inc.created_at,
       inc.acknowledged_at, inc.resolved_at
  FROM al LEFT JOIN inc ON inc.id = al.incident_id
"""

_STATEMENTS: dict[IngestAction, str] = {
    IngestAction.CREATED: _CREATE,
    IngestAction.ATTACHED: _ATTACH,
    IngestAction.DEDUPLICATED: _DEDUPLICATE,
    IngestAction.RESOLVED: _RESOLVE,
}


def _params(signal: AlertSignal, *, actor: str, auto_resolve: bool) -> dict[str, Any]:
    return {
        "fingerprint": signal.fingerprint,
        "service": signal.service,
        "summary": signal.summary,
        "severity": signal.severity.value,
        "source": signal.source,
        "description": signal.description,
        "labels": Jsonb(dict(signal.labels)),
        "annotations": Jsonb(dict(signal.annotations)),
        "starts_at": signal.starts_at,
        "ends_at": signal.ends_at,
        "integration_id": signal.integration_id,
        "actor": actor,
        "auto_resolve": auto_resolve,
    }


def _read_state(
    connection: psycopg.Connection[Any], signals: Sequence[AlertSignal]
) -> CorrelationState:
    with connection.pipeline(), connection.cursor() as cursor:
        cursor.execute(
            _READ_STATE,
            {
                "fingerprints": sorted({s.fingerprint for s in signals}),
                "services": sorted({s.service for s in signals}),
            },
        )
        rows = cursor.fetchall()
    return CorrelationState(
        firing_fingerprints=frozenset(key for kind, key in rows if kind == "fingerprint"),
        services_with_open_incident=frozenset(key for kind, key in rows if kind == "service"),
    )


def _write(
    connection: psycopg.Connection[Any],
    signals: Sequence[AlertSignal],
    actions: Sequence[IngestAction],
    *,
    actor: str,
    auto_resolve: bool,
) -> BatchOutcome:
    cursors: list[psycopg.Cursor[dict[str, Any]] | None] = []
    with connection.pipeline():
        for signal, action in zip(signals, actions, strict=True):
            statement = _STATEMENTS.get(action)
            if statement is None:
                cursors.append(None)
                continue
            params = _params(signal, actor=actor, auto_resolve=auto_resolve)
            if action is IngestAction.RESOLVED:
                connection.execute(_LOCK_INCIDENT_OF_FIRING_ALERT, params)
            cursor: psycopg.Cursor[dict[str, Any]] = connection.cursor(row_factory=dict_row)
            cursor.execute(statement, params)
            cursors.append(cursor)

    outcomes: list[IngestOutcome] = []
    auto_resolved: list[ResolvedIncident] = []
    for action, result in zip(actions, cursors, strict=True):
        if result is None:
            outcomes.append(IngestOutcome(action, None, None))
            continue
        row = result.fetchone()
        if row is None:
            # The guard of this decision failed: someone else changed the state.
            raise PlanInvalidated(action.value)
        outcomes.append(IngestOutcome(action, row["id"], row["incident_id"]))
        if action is IngestAction.RESOLVED and row.get("resolved_at") is not None:
            auto_resolved.append(
                ResolvedIncident(
                    id=row["incident_id"],
                    service=row["service"],
                    severity=row["severity"],
                    created_at=row["created_at"],
                    acknowledged_at=row["acknowledged_at"],
                    resolved_at=row["resolved_at"],
                )
            )
    return BatchOutcome(outcomes, auto_resolved)


_RETRYABLE = (PlanInvalidated, pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


def ingest(
    engine: Engine, signals: Sequence[AlertSignal], *, actor: str, auto_resolve: bool
) -> BatchOutcome:
    """Correlate and store a batch atomically; outcomes come back in the batch's order."""
    if not signals:
        return BatchOutcome([], [])
    # Services in a fixed order so that concurrent batches lock incidents in the same
    # order and do not deadlock; the stable sort keeps each service's alerts in order.
    order = sorted(range(len(signals)), key=lambda index: signals[index].service)
    ordered = [signals[index] for index in order]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        raw = engine.raw_connection()
        try:
            connection: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
            try:
                state = _read_state(connection, ordered)
                actions = plan_batch(ordered, state)
                batch = _write(connection, ordered, actions, actor=actor, auto_resolve=auto_resolve)
                connection.commit()
            except _RETRYABLE as error:
                connection.rollback()
                logger.debug("ingest attempt %d replanned: %s", attempt, error)
                continue
            except psycopg.OperationalError as error:
                raw.invalidate()
                raise DatabaseUnavailable(str(error)) from error
            except BaseException:
                connection.rollback()
                raise
        finally:
            raw.close()
        outcomes: list[IngestOutcome] = [batch.outcomes[0]] * len(signals)
        for position, index in enumerate(order):
            outcomes[index] = batch.outcomes[position]
        return BatchOutcome(outcomes, batch.auto_resolved)
    raise DatabaseUnavailable(f"alert batch kept conflicting after {MAX_ATTEMPTS} attempts")


def ingest_and_record(
    engine: Engine,
    signals: Sequence[AlertSignal],
    *,
    source: str,
    actor: str,
    auto_resolve: bool,
) -> BatchOutcome:
    """:func:`ingest`, then count the alerts and observe MTTR of auto-resolved incidents."""
    batch = ingest(engine, signals, actor=actor, auto_resolve=auto_resolve)
    for outcome in batch.outcomes:
        ALERTS_RECEIVED.labels(source=source, action=outcome.action.value).inc()
    for incident in batch.auto_resolved:
        observe_resolved(
            incident.service, incident.severity, incident.created_at, incident.resolved_at
        )
    return batch
