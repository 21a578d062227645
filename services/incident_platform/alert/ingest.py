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
again from a fresh read, so the one-open-incident-per-group rule (per service unless
a grouping rule says otherwise) holds across processes and replicas. A round locks
every existing incident it touches (grows or may close) in one statement, in id order,
after its inserts and before it resolves or grows anything: concurrent batches then
never deadlock, wait for each other at that one statement only, and hold the lock from
there to the commit. Requests are coalesced into batches before they get here
(``alert.batching``), so a storm on one hot incident updates its row once per batch,
not once per alert.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import Engine

from incident_platform.alert.correlation import (
    AlertSignal,
    CorrelationState,
    FiringAlert,
    IngestAction,
    OpenIncident,
    RoundPlan,
    auto_resolves,
    fold_repeats,
    group_for,
    plan_round,
    split_rounds,
)
from incident_platform.db import DatabaseUnavailable
from incident_platform.flapping.rules import record_quiet
from incident_platform.flapping.store import (
    READ_FLAPS,
    RECORD_FLAPS,
    TAKE_QUIET_FLAPS,
    flap_arrays,
    flap_columns,
    flap_records,
    flap_thresholds,
    flapping_stopped,
    history_of,
)
from incident_platform.grouping.rules import service_group_key
from incident_platform.grouping.store import READ_RULES, rules_of
from incident_platform.incident.lifecycle import IncidentStatus
from incident_platform.incident.notify import incidents_changed
from incident_platform.incident.tables import OPEN_STATUSES_SQL
from incident_platform.metrics import observe_resolved
from incident_platform.settings import get_settings
from incident_platform.severity import SEVERITY_ORDER, Severity
from incident_platform.silence.codec import matcher_rules
from incident_platform.silence.rules import SilenceRule

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# The domain's rules as SQL text: ``lifecycle.OPEN_STATUSES`` and ``severity.SEVERITY_ORDER``.
OPEN = OPEN_STATUSES_SQL
SEVERITY_ARRAY = "ARRAY[" + ", ".join(f"'{severity.value}'" for severity in SEVERITY_ORDER) + "]"
TRIGGERED = IncidentStatus.TRIGGERED.value

T = TypeVar("T")

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


# One index probe per fingerprint, written so that no plan can do otherwise: as
# ``fingerprint = ANY(...)`` a table not analyzed yet (a new install's first minute, every
# bench run) was read through the other firing-only index, all of its firing alerts per
# round (21 ms instead of 0.1 ms at 28,000 alerts). At most one alert fires per fingerprint.
_READ_FIRING = """
SELECT a.fingerprint, a.alert_id, a.incident_id
  FROM unnest(%(fingerprints)b::text[]) AS f(fingerprint)
 CROSS JOIN LATERAL (
       SELECT fingerprint, id AS alert_id, incident_id
         FROM alerts
        WHERE status = 'firing' AND fingerprint = f.fingerprint
        LIMIT 1
 ) AS a
"""

# The open incidents of the round's groups that take alerts; the newest alert's time only
# where a time window needs it (it costs a look at the incident's alerts).
_READ_OPEN_INCIDENTS = f"""
SELECT group_key, id AS incident_id, severity,
       CASE WHEN group_key = ANY(%(windowed)b::text[])
            THEN (SELECT max(a.created_at) FROM alerts a WHERE a.incident_id = incidents.id)
       END AS newest_alert_at
  FROM incidents
 WHERE status IN {OPEN} AND accepts_alerts AND group_key = ANY(%(keys)b::text[])
"""

# Open incidents whose group's time window closed: they leave the group (and its unique
# index) so that it can open a new one, unless an alert joined them after all.
_CLOSE_WINDOWS = f"""
UPDATE incidents AS i
   SET accepts_alerts = false, updated_at = now(),
       change_seq = greatest(incident_change_position(), i.change_seq + 1)
  FROM unnest(%(w_id)b::bigint[], %(w_cutoff)b::timestamptz[]) AS w(id, cutoff)
 WHERE i.id = w.id AND i.status IN {OPEN} AND i.accepts_alerts
   AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.incident_id = i.id AND a.created_at > w.cutoff)
RETURNING i.id
"""

# The active silences, and the database's clock that decided which ones are active.
_READ_SILENCES = """
SELECT statement_timestamp() AS now,
       coalesce(jsonb_agg(jsonb_build_object('id', id, 'matchers', matchers,
                                             'starts_at', starts_at, 'ends_at', ends_at)
                          ORDER BY created_at, id), '[]'::jsonb) AS silences
  FROM silences
 WHERE starts_at <= statement_timestamp() AND ends_at > statement_timestamp()
"""

# Alerts an active silence mutes: stored firing, with no incident.
_INSERT_SILENCED = """
INSERT INTO alerts (incident_id, silence_id, integration_id, service, summary, severity, source,
                    description, status, fingerprint, labels, annotations, occurrences,
                    starts_at, ends_at)
SELECT NULL, a.silence_id, a.integration_id, a.service, a.summary, a.severity, a.source,
       a.description, 'firing', a.fingerprint,
       %(labels)b::jsonb -> (a.n::int - 1), %(annotations)b::jsonb -> (a.n::int - 1),
       a.occurrences, a.starts_at, a.ends_at
  FROM unnest(
        %(fingerprint)b::text[], %(silence_id)b::uuid[], %(service)b::text[], %(summary)b::text[],
        %(severity)b::text[], %(source)b::text[], %(description)b::text[],
        %(starts_at)b::timestamptz[], %(ends_at)b::timestamptz[], %(integration_id)b::uuid[],
        %(occurrences)b::int[]
    ) WITH ORDINALITY AS a(fingerprint, silence_id, service, summary, severity, source,
                           description, starts_at, ends_at, integration_id, occurrences, n)
 ORDER BY a.n
ON CONFLICT (fingerprint) WHERE status = 'firing' DO NOTHING
RETURNING id, fingerprint
"""

# The incidents a round's alerts go to, shared by new arrivals and released (unsilenced)
# alerts: ``created`` opens the planned incidents, ``target`` maps every target (a group
# key, or an incident a flapping alert re-joins) to its incident, new or already open.
_OPEN_OR_JOIN = f"""created AS (
    INSERT INTO incidents (title, service, severity, status, alert_count, group_key,
                           grouping_rule)
    SELECT title, service, severity, '{TRIGGERED}', alert_count, group_key, grouping_rule
      FROM unnest(%(c_service)b::text[], %(c_title)b::text[], %(c_severity)b::text[],
                  %(c_count)b::int[], %(c_key)b::text[], %(c_rule)b::text[])
           AS c(service, title, severity, alert_count, group_key, grouping_rule)
    ON CONFLICT (group_key) WHERE status IN {OPEN} AND accepts_alerts DO NOTHING
    RETURNING id, group_key
), target AS (
    SELECT group_key AS key, id FROM created
    UNION ALL
    SELECT key, id FROM unnest(%(o_key)b::text[], %(o_id)b::bigint[]) AS o(key, id)
)"""

# New alerts, and the incidents the round opens for them, in one statement: a
# created incident's id is needed by its alerts.
_INSERT_ALERTS = f"""
WITH {_OPEN_OR_JOIN}, incoming AS (
    SELECT * FROM unnest(
        %(fingerprint)b::text[], %(service)b::text[], %(summary)b::text[],
        %(severity)b::text[], %(source)b::text[], %(description)b::text[],
        %(starts_at)b::timestamptz[], %(ends_at)b::timestamptz[], %(integration_id)b::uuid[],
        %(kind)b::text[], %(occurrences)b::int[], %(target)b::text[]
    ) WITH ORDINALITY AS a(fingerprint, service, summary, severity, source, description,
                           starts_at, ends_at, integration_id, kind, occurrences, target, n)
), inserted AS (
    INSERT INTO alerts (incident_id, integration_id, service, summary, severity, source,
                        description, status, fingerprint, labels, annotations, occurrences,
                        starts_at, ends_at)
    SELECT t.id, a.integration_id, a.service, a.summary, a.severity, a.source, a.description,
           'firing', a.fingerprint, %(labels)b::jsonb -> (a.n::int - 1),
           %(annotations)b::jsonb -> (a.n::int - 1), a.occurrences, a.starts_at, a.ends_at
      FROM incoming a JOIN target t ON t.key = a.target
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
SELECT 'incident' AS kind, group_key AS key, id, id AS incident_id FROM created
UNION ALL
SELECT 'alert', fingerprint, id, incident_id FROM inserted
"""

# Open incidents the round adds alerts to: the guard that they are still open,
# their counts and severity, and the change-feed bump: once per round, however many
# alerts it attaches. The lock here is already held (``_LOCK_INCIDENTS``) when a new
# arrival grows an incident; the silence release takes it here.
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
               WHEN array_position({SEVERITY_ARRAY}, g.severity)
                  > array_position({SEVERITY_ARRAY}, i.severity::text)
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
   SET occurrences = occurrences + d.added, last_seen_at = now()
  FROM unnest(%(d_fingerprint)b::text[], %(d_added)b::int[]) AS d(fingerprint, added)
 WHERE alerts.fingerprint = d.fingerprint AND alerts.status = 'firing'
RETURNING alerts.id, alerts.incident_id, alerts.fingerprint
"""

# Every existing incident a round grows or may close, locked by one statement in one fixed
# order, after the round's inserts. Before resolving, so that two resolutions of an incident's last
# alerts are serialised: the second one then sees the first and closes the incident.
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
           WHERE x.incident_id IS NOT NULL  -- a muted alert belongs to no incident
           GROUP BY x.incident_id
      ) AS per_incident
     ORDER BY first
)
SELECT id, incident_id, fingerprint FROM resolved
"""

# What ``correlation.auto_resolves`` decides on, read after the round's resolutions,
# under the incident locks taken before them.
_STILL_FIRING = """
SELECT i.id, i.status, i.flapping,
       EXISTS (SELECT 1 FROM alerts f WHERE f.incident_id = i.id AND f.status = 'firing')
           AS still_firing
  FROM incidents i
 WHERE i.id = ANY(%(r_incident)b::bigint[])
"""

# Closes the incidents the rule decided on (still locked since the decision).
_AUTO_RESOLVE = f"""
WITH closed AS (
    UPDATE incidents AS i
       SET status = '{IncidentStatus.RESOLVED.value}', resolved_at = now(), updated_at = now(),
           change_seq = greatest(incident_change_position(), i.change_seq + 1)
     WHERE i.id = ANY(%(a_incident)b::bigint[])
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


def _silence_rules(stored: list[dict[str, Any]]) -> list[SilenceRule]:
    return [
        SilenceRule(
            id=UUID(silence["id"]),
            matchers=matcher_rules(silence["matchers"]),
            starts_at=datetime.fromisoformat(silence["starts_at"]),
            ends_at=datetime.fromisoformat(silence["ends_at"]),
        )
        for silence in stored
    ]


def _read_state(
    connection: psycopg.Connection[Any],
    signals: Sequence[AlertSignal],
    *,
    firing_fingerprints: bool = True,
) -> CorrelationState:
    """What the round's decisions depend on. Without ``firing_fingerprints`` the round's
    own alerts are treated as new arrivals (a silence's release re-decides them)."""
    fingerprints = sorted({s.fingerprint for s in signals})
    # The services' own groups are read with the rest: with no grouping rule matching,
    # the usual case, the round's state costs one round trip.
    service_keys = sorted({service_group_key(s.service) for s in signals})
    with (
        connection.pipeline(),
        connection.cursor(row_factory=dict_row) as cursor,
        connection.cursor(row_factory=dict_row) as silences_cursor,
        connection.cursor(row_factory=dict_row) as rules_cursor,
        connection.cursor(row_factory=dict_row) as flaps_cursor,
        connection.cursor(row_factory=dict_row) as incidents_cursor,
    ):
        cursor.execute(_READ_FIRING, {"fingerprints": fingerprints if firing_fingerprints else []})
        silences_cursor.execute(_READ_SILENCES)
        rules_cursor.execute(READ_RULES)
        if firing_fingerprints:
            flaps_cursor.execute(READ_FLAPS, {"fingerprints": fingerprints})
        incidents_cursor.execute(_READ_OPEN_INCIDENTS, {"keys": service_keys, "windowed": []})
        firing = cursor.fetchall()
        silences = silences_cursor.fetchone()
        grouping = rules_of(rules_cursor.fetchall())
        flaps = flap_records(flaps_cursor.fetchall()) if firing_fingerprints else {}
        incidents = incidents_cursor.fetchall()
    assert silences is not None  # an aggregate always answers one row
    groups = [group_for(s, grouping) for s in signals]
    rule_groups = [group for group in groups if group.rule is not None]
    if rule_groups:
        with connection.cursor(row_factory=dict_row) as cursor:
            cursor.execute(
                _READ_OPEN_INCIDENTS,
                {
                    "keys": sorted({group.key for group in rule_groups}),
                    "windowed": sorted(
                        {g.key for g in rule_groups if g.window_minutes is not None}
                    ),
                },
            )
            incidents += cursor.fetchall()
    return CorrelationState(
        firing={
            row["fingerprint"]: FiringAlert(row["alert_id"], row["incident_id"]) for row in firing
        },
        open_incidents={
            row["group_key"]: OpenIncident(
                row["incident_id"], Severity(row["severity"]), row["newest_alert_at"]
            )
            for row in incidents
        },
        silences=_silence_rules(silences["silences"]),
        now=silences["now"],
        grouping_rules=grouping,
        flaps=flaps,
        flap_thresholds=flap_thresholds(),
    )


def _alert_arrays(
    signals: Sequence[AlertSignal],
    plan: RoundPlan,
    state: CorrelationState,
    repeats: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """``repeats``: by fingerprint, how many folded repeats an alert carries (occurrences)."""
    new = [
        s
        for s, action in zip(signals, plan.actions, strict=True)
        if action in (IngestAction.CREATED, IngestAction.ATTACHED)
    ]
    created = plan.new_incidents
    return {
        "c_service": [incident.service for incident in created.values()],
        "c_title": [incident.title for incident in created.values()],
        "c_severity": [incident.severity.value for incident in created.values()],
        "c_count": [incident.alert_count for incident in created.values()],
        "c_key": list(created),
        "c_rule": [incident.grouping_rule for incident in created.values()],
        "o_key": list(plan.joined),
        "o_id": list(plan.joined.values()),
        "target": [plan.targets[s.fingerprint] for s in new],
        "fingerprint": [s.fingerprint for s in new],
        "service": [s.service for s in new],
        "summary": [s.summary for s in new],
        "severity": [s.severity.value for s in new],
        "source": [s.source for s in new],
        "description": [s.description for s in new],
        # One JSON array each, element n for alert n: one json.dumps per batch rather
        # than one per alert (and per-element array framing) halves their client cost.
        "labels": Jsonb([dict(s.labels) for s in new]),
        "annotations": Jsonb([dict(s.annotations) for s in new]),
        "starts_at": [s.starts_at for s in new],
        "ends_at": [s.ends_at for s in new],
        "integration_id": [s.integration_id for s in new],
        "kind": ["created" if s.fingerprint in plan.openers else "alert_attached" for s in new],
        "occurrences": [1 + (repeats or {}).get(s.fingerprint, 0) for s in new],
    }


def _silenced_arrays(
    silenced: Sequence[AlertSignal], plan: RoundPlan, repeats: Mapping[str, int]
) -> dict[str, Any]:
    return {
        "occurrences": [1 + repeats.get(s.fingerprint, 0) for s in silenced],
        "fingerprint": [s.fingerprint for s in silenced],
        "silence_id": [plan.muted_by[s.fingerprint] for s in silenced],
        "service": [s.service for s in silenced],
        "summary": [s.summary for s in silenced],
        "severity": [s.severity.value for s in silenced],
        "source": [s.source for s in silenced],
        "description": [s.description for s in silenced],
        "labels": Jsonb([dict(s.labels) for s in silenced]),
        "annotations": Jsonb([dict(s.annotations) for s in silenced]),
        "starts_at": [s.starts_at for s in silenced],
        "ends_at": [s.ends_at for s in silenced],
        "integration_id": [s.integration_id for s in silenced],
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
    repeats: Mapping[str, int],
) -> tuple[list[IngestOutcome], list[ResolvedIncident]]:
    plan = plan_round(signals, state)
    new = _by_action(signals, plan, IngestAction.CREATED) + _by_action(
        signals, plan, IngestAction.ATTACHED
    )
    duplicates = _by_action(signals, plan, IngestAction.DEDUPLICATED)
    resolving = _by_action(signals, plan, IngestAction.RESOLVED)
    silenced = _by_action(signals, plan, IngestAction.SILENCED)
    resolving_incidents = sorted(
        {
            incident_id
            for s in resolving
            if (incident_id := state.firing[s.fingerprint].incident_id) is not None
        }
    )
    # Incidents that may close now: those an alert resolved in, or whose alert stopped
    # flapping, except those a flapping alert's resolution holds open.
    closing_incidents = sorted((set(resolving_incidents) | flapping_stopped(plan)) - plan.held_open)

    def run(statement: str, params: dict[str, Any]) -> Cursor:
        cursor = connection.cursor(row_factory=dict_row)
        cursor.execute(statement, {**params, "actor": actor})
        return cursor

    def grow() -> Cursor | None:
        if not plan.grown_incidents:
            return None
        return run(
            _GROW_INCIDENTS,
            {
                "g_id": list(plan.grown_incidents),
                "g_added": [count for count, _ in plan.grown_incidents.values()],
                "g_severity": [worst.value for _, worst in plan.grown_incidents.values()],
            },
        )

    locked_incidents = sorted({*closing_incidents, *plan.grown_incidents})
    with connection.pipeline():
        windows = (
            run(
                _CLOSE_WINDOWS,
                {"w_id": list(plan.closed_windows), "w_cutoff": list(plan.closed_windows.values())},
            )
            if plan.closed_windows
            else None
        )
        inserted = (
            run(_INSERT_ALERTS, _alert_arrays(signals, plan, state, repeats)) if new else None
        )
        muted = (
            run(_INSERT_SILENCED, _silenced_arrays(silenced, plan, repeats)) if silenced else None
        )
        deduplicated = (
            run(
                _DEDUPLICATE,
                {
                    "d_fingerprint": [s.fingerprint for s in duplicates],
                    "d_added": [1 + repeats.get(s.fingerprint, 0) for s in duplicates],
                },
            )
            if duplicates
            else None
        )
        # After the inserts, the heavy part: a lock on a hot incident is held only from
        # here to the commit. Attached alerts reference their incident already (a key
        # share, which blocks no one); GROW re-checks under this lock that it is open.
        if locked_incidents:
            run(_LOCK_INCIDENTS, {"r_incident": locked_incidents})
        resolved = still_firing = closed = grown = None
        if resolving:
            resolved = run(
                _RESOLVE,
                {
                    "r_fingerprint": [s.fingerprint for s in resolving],
                    "r_ends_at": [s.ends_at for s in resolving],
                    "r_summary": [s.summary for s in resolving],
                },
            )
        flapped = run(RECORD_FLAPS, flap_arrays(signals, plan)) if plan.flaps else None
        if auto_resolve and closing_incidents:
            still_firing = run(_STILL_FIRING, {"r_incident": closing_incidents})
        if still_firing is None:
            grown = grow()
    if still_firing is not None:
        closing = [
            row["id"]
            for row in still_firing.fetchall()
            if auto_resolves(
                IncidentStatus(row["status"]),
                still_firing=row["still_firing"],
                flapping=row["flapping"],
            )
        ]
        with connection.pipeline():
            closed = run(_AUTO_RESOLVE, {"a_incident": closing}) if closing else None
            grown = grow()

    if windows is not None and len(windows.fetchall()) != len(plan.closed_windows):
        raise PlanInvalidated("an alert joined an incident whose time window was closing")
    if flapped is not None and len(flapped.fetchall()) != len(plan.flaps):
        raise PlanInvalidated("a flap history changed concurrently")
    alerts: dict[str, tuple[int, int | None]] = {}
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
    if muted is not None:
        rows = muted.fetchall()
        if len(rows) != len(silenced):
            raise PlanInvalidated("a muted alert was created concurrently")
        alerts.update({row["fingerprint"]: (row["id"], None) for row in rows})
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
        _resolved_incident(row) for row in (closed.fetchall() if closed is not None else [])
    ]
    return outcomes, auto_resolved


def _resolved_incident(row: dict[str, Any]) -> ResolvedIncident:
    return ResolvedIncident(
        id=row["id"],
        service=row["service"],
        severity=row["severity"],
        created_at=row["created_at"],
        acknowledged_at=row["acknowledged_at"],
        resolved_at=row["resolved_at"],
    )


def _write(
    connection: psycopg.Connection[Any],
    signals: Sequence[AlertSignal],
    *,
    actor: str,
    auto_resolve: bool,
) -> BatchOutcome:
    outcomes: list[IngestOutcome | None] = [None] * len(signals)
    auto_resolved: list[ResolvedIncident] = []
    folded = fold_repeats(signals)
    kept = [signals[position] for position in folded.kept]
    for rank_positions in split_rounds(kept):
        positions = [folded.kept[rank] for rank in rank_positions]
        round_signals = [signals[position] for position in positions]
        state = _read_state(connection, round_signals)
        round_outcomes, closed = _write_round(
            connection,
            round_signals,
            state,
            actor=actor,
            auto_resolve=auto_resolve,
            repeats={
                signals[position].fingerprint: folded.extra[position]
                for position in positions
                if position in folded.extra
            },
        )
        for position, outcome in zip(positions, round_outcomes, strict=True):
            outcomes[position] = outcome
        auto_resolved += closed
    for position, head in folded.repeats.items():
        first = outcomes[head]
        assert first is not None  # a repeat's head is kept, so decided
        outcomes[position] = IngestOutcome(
            IngestAction.DEDUPLICATED, first.alert_id, first.incident_id
        )
    return BatchOutcome([o for o in outcomes if o is not None], auto_resolved)


_RETRYABLE = (PlanInvalidated, pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


def _with_replanning(
    engine: Engine, work: Callable[[psycopg.Connection[Any]], T], *, what: str
) -> T:
    """Run ``work`` (which commits or rolls back itself) on a fresh connection, planning
    again from a new read when another writer invalidated its plan, up to MAX_ATTEMPTS."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        raw = engine.raw_connection()
        try:
            connection: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
            try:
                return work(connection)
            except _RETRYABLE as error:
                connection.rollback()
                logger.debug("%s attempt %d replanned: %s", what, attempt, error)
            except psycopg.OperationalError as error:
                raw.invalidate()
                raise DatabaseUnavailable(str(error)) from error
            except BaseException:
                connection.rollback()
                raise
        finally:
            raw.close()
    raise DatabaseUnavailable(f"{what} kept conflicting after {MAX_ATTEMPTS} attempts")


def ingest(
    engine: Engine, signals: Sequence[AlertSignal], *, actor: str, auto_resolve: bool
) -> BatchOutcome:
    """Correlate and store a batch atomically; outcomes come back in the batch's order."""
    if not signals:
        return BatchOutcome([], [])

    def attempt(connection: psycopg.Connection[Any]) -> BatchOutcome:
        batch = _write(connection, signals, actor=actor, auto_resolve=auto_resolve)
        connection.commit()
        incidents_changed(engine)
        return batch

    return _with_replanning(engine, attempt, what="alert batch")


# --- Releasing alerts when their silence ends -------------------------------------------
#
# A muted alert is decided again, as a new arrival would be, once its silence is no
# longer active: another active silence may mute it still, otherwise it opens or joins
# its service's incident (and the escalation engine pages for that incident as for any).
# Alerts resolved meanwhile are no longer firing and are not touched.

SWEEP_LOCK = 0x51_1E_9C_E5  # pg advisory lock key: one sweeper at a time across replicas

_MUTED_OF = """
SELECT id, fingerprint, service, summary, severity, labels, silence_id
  FROM alerts
 WHERE status = 'firing' AND incident_id IS NULL AND silence_id = ANY(%(silence_ids)b::uuid[])
 ORDER BY id
 LIMIT %(limit)s
   FOR UPDATE
"""

# Muted alerts whose silence is no longer active (expired naturally, or moved to the
# future), skipping rows another transaction holds: it will be seen on the next sweep.
_MUTED_BY_ENDED = """
SELECT a.id, a.fingerprint, a.service, a.summary, a.severity, a.labels, a.silence_id
  FROM alerts a JOIN silences s ON s.id = a.silence_id
 WHERE a.status = 'firing' AND a.incident_id IS NULL
   AND NOT (s.starts_at <= statement_timestamp() AND s.ends_at > statement_timestamp())
 ORDER BY a.id
 LIMIT %(limit)s
   FOR UPDATE OF a SKIP LOCKED
"""

_REMUTE = """
UPDATE alerts SET silence_id = m.silence_id
  FROM unnest(%(m_id)b::bigint[], %(m_silence)b::uuid[]) AS m(id, silence_id)
 WHERE alerts.id = m.id
"""

_RELEASE = f"""
WITH {_OPEN_OR_JOIN}, incoming AS (
    SELECT * FROM unnest(%(alert_id)b::bigint[], %(target)b::text[], %(summary)b::text[],
                         %(kind)b::text[])
        WITH ORDINALITY AS a(alert_id, target, summary, kind, n)
), released AS (
    UPDATE alerts SET incident_id = t.id, last_seen_at = now()
      FROM incoming a JOIN target t ON t.key = a.target
     WHERE alerts.id = a.alert_id AND alerts.status = 'firing' AND alerts.incident_id IS NULL
 RETURNING alerts.id, alerts.incident_id, alerts.fingerprint, alerts.silence_id
), timeline AS (
    INSERT INTO timeline_events (incident_id, kind, actor, message, data)
    SELECT incident_id, kind, 'system',
           CASE WHEN kind = 'created' THEN 'Incident opened by alert after its silence ended: '
                                           || first_summary
                WHEN alerts = 1 THEN 'Alert attached after its silence ended: ' || first_summary
                ELSE alerts || ' alerts attached after their silence ended, first: '
                     || first_summary END,
           jsonb_build_object('alert_ids', alert_ids, 'silence_ids', silence_ids)
      FROM (
          SELECT r.incident_id, a.kind, count(*) AS alerts, min(a.n) AS first,
                 (array_agg(a.summary ORDER BY a.n))[1] AS first_summary,
                 jsonb_agg(r.id ORDER BY a.n) AS alert_ids,
                 jsonb_agg(DISTINCT r.silence_id) AS silence_ids
            FROM released r JOIN incoming a ON a.alert_id = r.id
           GROUP BY r.incident_id, a.kind
      ) AS per_incident
     ORDER BY first
)
SELECT 'incident' AS kind, id FROM created
UNION ALL
SELECT 'alert', id FROM released
"""


def _release_round(connection: psycopg.Connection[Any], rows: list[dict[str, Any]]) -> int:
    """Re-decide locked muted alerts; how many were released into incidents."""
    signals = [
        AlertSignal(
            fingerprint=row["fingerprint"],
            service=row["service"],
            summary=row["summary"],
            severity=Severity(row["severity"]),
            labels=row["labels"],
        )
        for row in rows
    ]
    state = _read_state(connection, signals, firing_fingerprints=False)
    plan = plan_round(signals, state)
    alert_id = {row["fingerprint"]: row["id"] for row in rows}
    still_muted = _by_action(signals, plan, IngestAction.SILENCED)
    released = [
        s
        for s, action in zip(signals, plan.actions, strict=True)
        if action in (IngestAction.CREATED, IngestAction.ATTACHED)
    ]
    arrays = _alert_arrays(signals, plan, state)
    with connection.pipeline(), connection.cursor(row_factory=dict_row) as cursor:
        windows = None
        if plan.closed_windows:
            windows = connection.cursor(row_factory=dict_row)
            windows.execute(
                _CLOSE_WINDOWS,
                {"w_id": list(plan.closed_windows), "w_cutoff": list(plan.closed_windows.values())},
            )
        if still_muted:
            cursor.execute(
                _REMUTE,
                {
                    "m_id": [alert_id[s.fingerprint] for s in still_muted],
                    "m_silence": [plan.muted_by[s.fingerprint] for s in still_muted],
                },
            )
        result = None
        if released:
            result = connection.cursor(row_factory=dict_row)
            result.execute(
                _RELEASE,
                {
                    **{
                        key: arrays[key]
                        for key in ("c_service", "c_title", "c_severity", "c_count", "c_key")
                    },
                    **{key: arrays[key] for key in ("c_rule", "o_key", "o_id", "target")},
                    "alert_id": [alert_id[s.fingerprint] for s in released],
                    "summary": arrays["summary"],
                    "kind": arrays["kind"],
                },
            )
        grown = None
        if plan.grown_incidents:
            grown = connection.cursor(row_factory=dict_row)
            grown.execute(
                _GROW_INCIDENTS,
                {
                    "g_id": list(plan.grown_incidents),
                    "g_added": [count for count, _ in plan.grown_incidents.values()],
                    "g_severity": [worst.value for _, worst in plan.grown_incidents.values()],
                    "actor": "system",
                },
            )
    if windows is not None and len(windows.fetchall()) != len(plan.closed_windows):
        raise PlanInvalidated("an alert joined an incident whose time window was closing")
    if result is not None:
        out = result.fetchall()
        opened = [row for row in out if row["kind"] == "incident"]
        if len(opened) != len(plan.new_incidents) or len(out) - len(opened) != len(released):
            raise PlanInvalidated("an incident was opened concurrently")
    if grown is not None and len(grown.fetchall()) != len(plan.grown_incidents):
        raise PlanInvalidated("an incident closed concurrently")
    return len(released)


def _release(
    engine: Engine, select: str, params: dict[str, Any], *, advisory_lock: bool
) -> int | None:
    """One transaction of release; None when another sweeper holds the lock."""

    def attempt(connection: psycopg.Connection[Any]) -> int | None:
        with connection.cursor(row_factory=dict_row) as cursor:
            if advisory_lock:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s) AS got", [SWEEP_LOCK])
                locked = cursor.fetchone()
                if locked is None or not locked["got"]:
                    connection.rollback()
                    return None
            cursor.execute(select, params)
            rows = cursor.fetchall()
        if not rows:
            # The usual case every few seconds: end it without a commit to write.
            connection.rollback()
            return 0
        released = _release_round(connection, rows)
        connection.commit()
        return len(rows) if advisory_lock else released

    return _with_replanning(engine, attempt, what="silence release")


def release_silenced(engine: Engine, silence_ids: Sequence[UUID], *, limit: int = 1000) -> int:
    """Re-decide the alerts these silences mute, now (a silence was expired or changed).

    Returns how many were released into incidents. Alerts beyond ``limit`` of an
    ended silence are left to the periodic sweep.
    """
    released = _release(
        engine,
        _MUTED_OF,
        {"silence_ids": list(silence_ids), "limit": limit},
        advisory_lock=False,
    )
    return released or 0


def sweep_ended_silences(engine: Engine, *, batch: int = 500, max_batches: int = 20) -> int:
    """Release the alerts of silences that ended on their own; bounded per call.

    Under an advisory lock, so that of several workers and replicas one sweeps at a
    time; returns how many muted alerts were re-decided.
    """
    handled = 0
    for _ in range(max_batches):
        seen = _release(engine, _MUTED_BY_ENDED, {"limit": batch}, advisory_lock=True)
        if seen is None:
            break
        handled += seen
        if seen < batch:
            break
    return handled


# --- Letting time pass over flapping alerts -----------------------------------------------
#
# A flapping alert that stays quiet sends nothing, yet the checks Nagios would have made
# meanwhile count as unchanged states: the sweep records them, so the alert stops
# flapping, and its incident resolves if its alerts are all resolved by then.


def _sweep_flaps_once(engine: Engine, limit: int) -> tuple[int, list[ResolvedIncident]]:
    thresholds = flap_thresholds()

    def attempt(connection: psycopg.Connection[Any]) -> tuple[int, list[ResolvedIncident]]:
        with connection.cursor(row_factory=dict_row) as cursor:
            cursor.execute(
                TAKE_QUIET_FLAPS, {"interval": thresholds.check_interval, "limit": limit}
            )
            rows = cursor.fetchall()
            if not rows:
                connection.rollback()
                return 0, []
            now = connection.execute("SELECT statement_timestamp()").fetchone()
            assert now is not None
            changes = []
            for row in rows:
                before = history_of(row)
                after = record_quiet(before, now[0], thresholds)
                stopped = before.flapping and not after.flapping
                changes.append(
                    (
                        row["fingerprint"],
                        row["fingerprint"],
                        before,
                        after,
                        row["incident_id"],
                        False,
                        stopped,
                    )
                )
            stopped_incidents = sorted({c[4] for c in changes if c[6] and c[4] is not None})
            if stopped_incidents:
                # The same lock order as a round's: the incidents first, in id order.
                cursor.execute(_LOCK_INCIDENTS, {"r_incident": stopped_incidents})
            cursor.execute(RECORD_FLAPS, {**flap_columns(changes), "actor": "system"})
            if len(cursor.fetchall()) != len(changes):
                raise PlanInvalidated("a flap history changed concurrently")
            closed: list[dict[str, Any]] = []
            if stopped_incidents and get_settings().auto_resolve:
                cursor.execute(_STILL_FIRING, {"r_incident": stopped_incidents})
                closing = [
                    row["id"]
                    for row in cursor.fetchall()
                    if auto_resolves(
                        IncidentStatus(row["status"]),
                        still_firing=row["still_firing"],
                        flapping=row["flapping"],
                    )
                ]
                if closing:
                    cursor.execute(_AUTO_RESOLVE, {"a_incident": closing})
                    closed = cursor.fetchall()
        connection.commit()
        if closed or stopped_incidents:
            incidents_changed(engine)
        return len(rows), [_resolved_incident(row) for row in closed]

    return _with_replanning(engine, attempt, what="flap sweep")


def sweep_quiet_flaps(engine: Engine, *, batch: int = 500, max_batches: int = 20) -> int:
    """Count the unchanged checks of quiet flapping alerts; returns how many were swept.
    An alert that stops flapping lets its incident resolve if nothing of it fires."""
    handled = 0
    for _ in range(max_batches):
        seen, closed = _sweep_flaps_once(engine, batch)
        for incident in closed:
            observe_resolved(
                incident.service, incident.severity, incident.created_at, incident.resolved_at
            )
        handled += seen
        if seen < batch:
            break
    return handled
