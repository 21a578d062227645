"""Carries out correlation decisions in PostgreSQL, a whole batch per transaction.

A round of alerts costs the same few statements whatever its size (read the
state, then set-based writes over arrays, sent as one pipeline), so a webhook of
100 alerts is one transaction of a handful of statements, not 100 of them.
Arrays travel in PostgreSQL's binary format (``%(name)b``): dumping them as
text costs four times as much client CPU, measured on 100-alert batches.

Each write re-checks the state its decision was planned on: ``ON CONFLICT DO
NOTHING`` on the partial unique indexes, ``WHERE status = ...`` guards, row
locks on the incidents it grows or may close. If any check finds that another
writer got there first, the transaction is rolled back and the batch planned
again from a fresh read, so the one-open-incident-per-service rule holds across
processes and replicas. Incident rows are locked by the last statements before
commit, so concurrent writers to one hot incident wait for as little as possible.
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

from incident_platform.alert.correlation import (
    AlertSignal,
    CorrelationState,
    FiringAlert,
    OpenIncident,
    RoundPlan,
    plan_round,
    split_rounds,
)
from incident_platform.alert.models import IngestAction
from incident_platform.db import DatabaseUnavailable
from incident_platform.incident.notify import incidents_changed
from incident_platform.metrics import ALERTS_RECEIVED, observe_resolved
from incident_platform.severity import Severity

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
OPEN = "('triggered', 'acknowledged')"
SEVERITY_ORDER = "ARRAY['info', 'warning', 'high', 'critical']"

Cursor = psycopg.Cursor[dict[str, Any]]


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
SELECT 'fingerprint' AS kind, fingerprint AS key, id AS alert_id, incident_id,
       NULL AS severity
  FROM alerts
 WHERE status = 'firing' AND fingerprint = ANY(%(fingerprints)b::text[])
UNION ALL
SELECT 'service', service, NULL, id, severity
  FROM incidents
 WHERE status IN {OPEN} AND service = ANY(%(services)b::text[])
"""

# New alerts, and the incidents the round opens for them, in one statement: a
# created incident's id is needed by its alerts. ``target`` maps every service
# that gets alerts to its incident, new or already open.
_INSERT_ALERTS = f"""
WITH created AS (
    INSERT INTO incidents (title, service, severity, status, alert_count)
    SELECT title, service, severity, 'triggered', alert_count
      FROM unnest(%(c_service)b::text[], %(c_title)b::text[], %(c_severity)b::text[],
                  %(c_count)b::int[]) AS c(service, title, severity, alert_count)
    ON CONFLICT (service) WHERE status IN {OPEN} DO NOTHING
    RETURNING id, service
), target AS (
    SELECT service, id FROM created
    UNION ALL
    SELECT service, id FROM unnest(%(o_service)b::text[], %(o_id)b::bigint[]) AS o(service, id)
), incoming AS (
    SELECT * FROM unnest(
        %(fingerprint)b::text[], %(service)b::text[], %(summary)b::text[],
        %(severity)b::text[], %(source)b::text[], %(description)b::text[],
        %(labels)b::jsonb[], %(annotations)b::jsonb[], %(starts_at)b::timestamptz[],
        %(ends_at)b::timestamptz[], %(integration_id)b::uuid[], %(kind)b::text[]
    ) WITH ORDINALITY AS a(fingerprint, service, summary, severity, source, description,
                           labels, annotations, starts_at, ends_at, integration_id, kind, n)
), inserted AS (
    INSERT INTO alerts (incident_id, integration_id, service, summary, severity, source,
                        description, status, fingerprint, labels, annotations, occurrences,
                        starts_at, ends_at)
    SELECT t.id, a.integration_id, a.service, a.summary, a.severity, a.source, a.description,
           'firing', a.fingerprint, a.labels, a.annotations, 1, a.starts_at, a.ends_at
      FROM incoming a JOIN target t ON t.service = a.service
     ORDER BY a.n
    ON CONFLICT (fingerprint) WHERE status = 'firing' DO NOTHING
    RETURNING id, incident_id, fingerprint
), timeline AS (
    -- One entry per incident and kind, not per alert: a storm of 500 alerts makes
    -- one readable "500 alerts attached" line, and 100x fewer rows to write.
    INSERT INTO timeline_events (incident_id, kind, actor, message, data)
    SELECT incident_id, kind, %(actor)s,
           CASE WHEN kind = 'created' THEN 'Incident opened by alert: ' || first_summary
                WHEN alerts = 1 THEN 'Alert attached: ' || first_summary
                ELSE alerts || ' alerts attached, first: ' || first_summary END,
           jsonb_build_object('alert_ids', alert_ids, 'fingerprints', fingerprints)
      FROM (
          SELECT i.incident_id, a.kind, count(*) AS alerts, min(a.n) AS first,
                 (array_agg(a.summary ORDER BY a.n))[1] AS first_summary,
                 jsonb_agg(i.id ORDER BY a.n) AS alert_ids,
                 jsonb_agg(a.fingerprint ORDER BY a.n) AS fingerprints
            FROM inserted i JOIN incoming a ON a.fingerprint = i.fingerprint
           GROUP BY i.incident_id, a.kind
      ) AS per_incident
     ORDER BY first
)
SELECT 'incident' AS kind, service AS key, id, id AS incident_id FROM created
UNION ALL
SELECT 'alert', fingerprint, id, incident_id FROM inserted
"""

# Open incidents the round adds alerts to: the guard that they are still open,
# their counts and severity, and the change-feed bump, under a row lock taken
# last so that it is held only until the commit that follows.
_GROW_INCIDENTS = f"""
WITH grown AS (
    SELECT * FROM unnest(%(g_id)b::bigint[], %(g_added)b::int[], %(g_severity)b::text[])
        AS g(id, added, severity)
), previous AS (
    SELECT i.id, i.severity FROM incidents i JOIN grown g ON g.id = i.id
     WHERE i.status IN {OPEN}
     ORDER BY i.id
       FOR NO KEY UPDATE OF i
), updated AS (
    UPDATE incidents AS i
       SET alert_count = i.alert_count + g.added,
           severity = CASE
               WHEN array_position({SEVERITY_ORDER}, g.severity)
                  > array_position({SEVERITY_ORDER}, i.severity::text)
               THEN g.severity ELSE i.severity END,
           updated_at = now(),
           change_seq = greatest(incident_change_position(), i.change_seq + 1)
      FROM grown g JOIN previous p ON p.id = g.id
     WHERE i.id = g.id
 RETURNING i.id, p.severity AS previous_severity, i.severity
), timeline AS (
    INSERT INTO timeline_events (incident_id, kind, actor, message, data)
    SELECT id, 'severity_changed', %(actor)s,
           'Severity raised from ' || previous_severity || ' to ' || severity,
           jsonb_build_object('from', previous_severity, 'to', severity)
      FROM updated
     WHERE severity <> previous_severity
)
SELECT id FROM updated
"""

_DEDUPLICATE = """
UPDATE alerts
   SET occurrences = occurrences + 1, last_seen_at = now()
  FROM unnest(%(d_fingerprint)b::text[]) AS d(fingerprint)
 WHERE alerts.fingerprint = d.fingerprint AND alerts.status = 'firing'
RETURNING alerts.id, alerts.incident_id, alerts.fingerprint
"""

# Taken before resolving so that two resolutions of an incident's last alerts are
# serialised: the second one then sees the first and closes the incident.
_LOCK_INCIDENTS = """
SELECT id FROM incidents WHERE id = ANY(%(r_incident)b::bigint[]) ORDER BY id FOR NO KEY UPDATE
"""

_RESOLVE = """
WITH closing AS (
    SELECT * FROM unnest(%(r_fingerprint)b::text[], %(r_ends_at)b::timestamptz[],
                         %(r_summary)b::text[]) WITH ORDINALITY AS r(fingerprint, ends_at,
                                                                     summary, n)
), resolved AS (
    UPDATE alerts
       SET status = 'resolved', resolved_at = now(), last_seen_at = now(),
           ends_at = coalesce(r.ends_at, now())
      FROM closing r
     WHERE alerts.fingerprint = r.fingerprint AND alerts.status = 'firing'
 RETURNING alerts.id, alerts.incident_id, alerts.fingerprint
), timeline AS (
    INSERT INTO timeline_events (incident_id, kind, actor, message, data)
    SELECT incident_id, 'alert_resolved', %(actor)s,
           CASE WHEN alerts = 1 THEN 'Alert resolved: ' || first_summary
                ELSE alerts || ' alerts resolved, first: ' || first_summary END,
           jsonb_build_object('alert_ids', alert_ids, 'fingerprints', fingerprints)
      FROM (
          SELECT x.incident_id, count(*) AS alerts, min(r.n) AS first,
                 (array_agg(r.summary ORDER BY r.n))[1] AS first_summary,
                 jsonb_agg(x.id ORDER BY r.n) AS alert_ids,
                 jsonb_agg(x.fingerprint ORDER BY r.n) AS fingerprints
            FROM resolved x JOIN closing r ON r.fingerprint = x.fingerprint
           GROUP BY x.incident_id
      ) AS per_incident
     ORDER BY first
)
SELECT id, incident_id, fingerprint FROM resolved
"""

_AUTO_RESOLVE = f"""
WITH closed AS (
    UPDATE incidents AS i
       SET status = 'resolved', resolved_at = now(), updated_at = now(),
           change_seq = greatest(incident_change_position(), i.change_seq + 1)
     WHERE i.id = ANY(%(r_incident)b::bigint[])
       AND i.status IN {OPEN}
       AND NOT EXISTS (SELECT 1 FROM alerts f WHERE f.incident_id = i.id AND f.status = 'firing')
 RETURNING i.id, i.service, i.severity, i.created_at, i.acknowledged_at, i.resolved_at,
           i.alert_count
), timeline AS (
    INSERT INTO timeline_events (incident_id, kind, actor, message, data)
    SELECT id, 'auto_resolved', 'system',
           'Auto-resolved: all ' || alert_count || ' alerts resolved', '{{}}'::jsonb
      FROM closed
)
SELECT * FROM closed
"""


def _read_state(
    connection: psycopg.Connection[Any], signals: Sequence[AlertSignal]
) -> CorrelationState:
    with connection.pipeline(), connection.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            _READ_STATE,
            {
                "fingerprints": sorted({s.fingerprint for s in signals}),
                "services": sorted({s.service for s in signals}),
            },
        )
        rows = cursor.fetchall()
    return CorrelationState(
        firing={
            row["key"]: FiringAlert(row["alert_id"], row["incident_id"])
            for row in rows
            if row["kind"] == "fingerprint"
        },
        open_incidents={
            row["key"]: OpenIncident(row["incident_id"], Severity(row["severity"]))
            for row in rows
            if row["kind"] == "service"
        },
    )


def _alert_arrays(
    signals: Sequence[AlertSignal], plan: RoundPlan, state: CorrelationState
) -> dict[str, Any]:
    new = [
        s
        for s, action in zip(signals, plan.actions, strict=True)
        if action in (IngestAction.CREATED, IngestAction.ATTACHED)
    ]
    existing = {
        s.service: state.open_incidents[s.service].incident_id
        for s in new
        if s.service in state.open_incidents
    }
    created = plan.new_incidents
    return {
        "c_service": list(created),
        "c_title": [incident.title for incident in created.values()],
        "c_severity": [incident.severity.value for incident in created.values()],
        "c_count": [incident.alert_count for incident in created.values()],
        "o_service": list(existing),
        "o_id": list(existing.values()),
        "fingerprint": [s.fingerprint for s in new],
        "service": [s.service for s in new],
        "summary": [s.summary for s in new],
        "severity": [s.severity.value for s in new],
        "source": [s.source for s in new],
        "description": [s.description for s in new],
        "labels": [Jsonb(dict(s.labels)) for s in new],
        "annotations": [Jsonb(dict(s.annotations)) for s in new],
        "starts_at": [s.starts_at for s in new],
        "ends_at": [s.ends_at for s in new],
        "integration_id": [s.integration_id for s in new],
        "kind": ["created" if s.fingerprint in plan.openers else "alert_attached" for s in new],
    }


def _by_action(
    signals: Sequence[AlertSignal], plan: RoundPlan, action: IngestAction
) -> list[AlertSignal]:
    return [s for s, a in zip(signals, plan.actions, strict=True) if a is action]


def _write_round(
    connection: psycopg.Connection[Any],
    signals: Sequence[AlertSignal],
    state: CorrelationState,
    *,
    actor: str,
    auto_resolve: bool,
) -> tuple[list[IngestOutcome], list[ResolvedIncident]]:
    plan = plan_round(signals, state)
    new = _by_action(signals, plan, IngestAction.CREATED) + _by_action(
        signals, plan, IngestAction.ATTACHED
    )
    duplicates = _by_action(signals, plan, IngestAction.DEDUPLICATED)
    resolving = _by_action(signals, plan, IngestAction.RESOLVED)
    resolving_incidents = sorted({state.firing[s.fingerprint].incident_id for s in resolving})

    def run(statement: str, params: dict[str, Any]) -> Cursor:
        cursor = connection.cursor(row_factory=dict_row)
        cursor.execute(statement, {**params, "actor": actor})
        return cursor

    with connection.pipeline():
        inserted = run(_INSERT_ALERTS, _alert_arrays(signals, plan, state)) if new else None
        deduplicated = (
            run(_DEDUPLICATE, {"d_fingerprint": [s.fingerprint for s in duplicates]})
            if duplicates
            else None
        )
        resolved = closed = None
        if resolving:
            run(_LOCK_INCIDENTS, {"r_incident": resolving_incidents})
            resolved = run(
                _RESOLVE,
                {
                    "r_fingerprint": [s.fingerprint for s in resolving],
                    "r_ends_at": [s.ends_at for s in resolving],
                    "r_summary": [s.summary for s in resolving],
                },
            )
            if auto_resolve:
                closed = run(_AUTO_RESOLVE, {"r_incident": resolving_incidents})
        grown = (
            run(
                _GROW_INCIDENTS,
                {
                    "g_id": list(plan.grown_incidents),
                    "g_added": [count for count, _ in plan.grown_incidents.values()],
                    "g_severity": [worst.value for _, worst in plan.grown_incidents.values()],
                },
            )
            if plan.grown_incidents
            else None
        )

    alerts: dict[str, tuple[int, int]] = {}
    if inserted is not None:
        rows = inserted.fetchall()
        opened = [row for row in rows if row["kind"] == "incident"]
        alerts = {
            row["key"]: (row["id"], row["incident_id"]) for row in rows if row["kind"] == "alert"
        }
        if len(opened) != len(plan.new_incidents) or len(alerts) != len(new):
            raise PlanInvalidated("an incident or alert was created concurrently")
    if grown is not None and len(grown.fetchall()) != len(plan.grown_incidents):
        raise PlanInvalidated("an incident closed concurrently")
    for cursor, expected in ((deduplicated, duplicates), (resolved, resolving)):
        if cursor is not None:
            rows = cursor.fetchall()
            if len(rows) != len(expected):
                raise PlanInvalidated("an alert changed concurrently")
            alerts.update({row["fingerprint"]: (row["id"], row["incident_id"]) for row in rows})

    outcomes = []
    for signal, action in zip(signals, plan.actions, strict=True):
        if action is IngestAction.IGNORED:
            outcomes.append(IngestOutcome(action, None, None))
        else:
            alert_id, incident_id = alerts[signal.fingerprint]
            outcomes.append(IngestOutcome(action, alert_id, incident_id))
    auto_resolved = [
        ResolvedIncident(
            id=row["id"],
            service=row["service"],
            severity=row["severity"],
            created_at=row["created_at"],
            acknowledged_at=row["acknowledged_at"],
            resolved_at=row["resolved_at"],
        )
        for row in (closed.fetchall() if closed is not None else [])
    ]
    return outcomes, auto_resolved


def _write(
    connection: psycopg.Connection[Any],
    signals: Sequence[AlertSignal],
    *,
    actor: str,
    auto_resolve: bool,
) -> BatchOutcome:
    outcomes: list[IngestOutcome | None] = [None] * len(signals)
    auto_resolved: list[ResolvedIncident] = []
    for positions in split_rounds(signals):
        round_signals = [signals[position] for position in positions]
        state = _read_state(connection, round_signals)
        round_outcomes, closed = _write_round(
            connection, round_signals, state, actor=actor, auto_resolve=auto_resolve
        )
        for position, outcome in zip(positions, round_outcomes, strict=True):
            outcomes[position] = outcome
        auto_resolved += closed
    return BatchOutcome([o for o in outcomes if o is not None], auto_resolved)


_RETRYABLE = (PlanInvalidated, pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


def ingest(
    engine: Engine, signals: Sequence[AlertSignal], *, actor: str, auto_resolve: bool
) -> BatchOutcome:
    """Correlate and store a batch atomically; outcomes come back in the batch's order."""
    if not signals:
        return BatchOutcome([], [])
    for attempt in range(1, MAX_ATTEMPTS + 1):
        raw = engine.raw_connection()
        try:
            connection: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
            try:
                batch = _write(connection, signals, actor=actor, auto_resolve=auto_resolve)
                connection.commit()
                incidents_changed(engine)
                return batch
            except _RETRYABLE as error:
                connection.rollback()
                logger.debug("ingest attempt %d replanned: %s", attempt, error)
            except psycopg.OperationalError as error:
                raw.invalidate()
                raise DatabaseUnavailable(str(error)) from error
            except BaseException:
                connection.rollback()
                raise
        finally:
            raw.close()
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
