"""Flap histories in PostgreSQL: what correlation reads and writes for them.

A history is written back only if it is still the one the plan was made on (its
``sampled_at`` unchanged), so two writers never lose each other's state change: the
loser's round is planned again.
"""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from incident_platform.alert.correlation import AlertSignal, FlapRecord, RoundPlan
from incident_platform.flapping.rules import AlertState, FlapHistory, FlapThresholds
from incident_platform.settings import get_settings

OPEN = "('triggered', 'acknowledged')"

READ_FLAPS = f"""
SELECT f.fingerprint, f.states, f.sampled_at, f.flapping, f.percent, f.incident_id,
       coalesce(i.status IN {OPEN}, false) AS incident_open
  FROM alert_flaps f LEFT JOIN incidents i ON i.id = f.incident_id
 WHERE f.fingerprint = ANY(%(fingerprints)b::text[])
"""

# The new histories; an incident is marked flapping while any of its alerts' fingerprints
# flaps (only incidents whose mark changes are written), and each start and stop goes on
# its incident's timeline.
RECORD_FLAPS = """
WITH changes AS (
    SELECT * FROM unnest(
        %(f_fingerprint)b::text[], %(f_states)b::text[], %(f_sampled_at)b::timestamptz[],
        %(f_previous)b::timestamptz[], %(f_flapping)b::bool[], %(f_percent)b::float8[],
        %(f_incident)b::bigint[], %(f_started)b::bool[], %(f_stopped)b::bool[],
        %(f_message)b::text[]
    ) AS c(fingerprint, states, sampled_at, previous, flapping, percent, incident_id, started,
           stopped, message)
), upserted AS (
    INSERT INTO alert_flaps AS f (fingerprint, states, sampled_at, flapping, percent, incident_id)
    SELECT c.fingerprint, string_to_array(c.states, ','), c.sampled_at, c.flapping, c.percent,
           coalesce(c.incident_id, (SELECT a.incident_id FROM alerts a
                                     WHERE a.fingerprint = c.fingerprint AND a.status = 'firing'))
      FROM changes c
     ORDER BY c.fingerprint
    ON CONFLICT (fingerprint) DO UPDATE
       SET states = excluded.states, sampled_at = excluded.sampled_at,
           flapping = excluded.flapping, percent = excluded.percent,
           incident_id = coalesce(excluded.incident_id, f.incident_id)
     WHERE f.sampled_at = (SELECT c.previous FROM changes c WHERE c.fingerprint = f.fingerprint)
    RETURNING f.fingerprint, f.incident_id
), marks AS (
    SELECT u.incident_id, bool_or(c.flapping) AS flapping
      FROM upserted u JOIN changes c ON c.fingerprint = u.fingerprint
     WHERE u.incident_id IS NOT NULL
     GROUP BY u.incident_id
), marked AS (
    UPDATE incidents AS i
       SET flapping = m.flapping OR EXISTS (
               SELECT 1 FROM alert_flaps o
                WHERE o.incident_id = i.id AND o.flapping
                  AND o.fingerprint <> ALL(%(f_fingerprint)b::text[])),
           updated_at = now(),
           change_seq = greatest(incident_change_position(), i.change_seq + 1)
      FROM marks m
     -- The ids again as an array: a join on ``marks`` alone, which the planner guesses
     -- at 200 rows, was a sequential scan of every incident for a batch's handful.
     WHERE i.id = ANY(ARRAY(SELECT incident_id FROM marks)) AND i.id = m.incident_id
       AND i.flapping IS DISTINCT FROM (m.flapping OR EXISTS (
               SELECT 1 FROM alert_flaps o
                WHERE o.incident_id = i.id AND o.flapping
                  AND o.fingerprint <> ALL(%(f_fingerprint)b::text[])))
    RETURNING i.id
), timeline AS (
    INSERT INTO timeline_events (incident_id, kind, actor, message, data)
    SELECT u.incident_id, CASE WHEN c.started THEN 'flapping_started' ELSE 'flapping_stopped' END,
           %(actor)s, c.message,
           jsonb_build_object('fingerprint', c.fingerprint, 'percent_state_change', c.percent)
      FROM upserted u JOIN changes c ON c.fingerprint = u.fingerprint
     WHERE (c.started OR c.stopped) AND u.incident_id IS NOT NULL
)
SELECT fingerprint FROM upserted
"""

# Flapping fingerprints whose time passed quietly: the flap sweep lets the checks that
# came due count (``flapping.rules.record_quiet``).
TAKE_QUIET_FLAPS = f"""
SELECT f.fingerprint, f.states, f.sampled_at, f.flapping, f.percent, f.incident_id,
       coalesce(i.status IN {OPEN}, false) AS incident_open
  FROM alert_flaps f LEFT JOIN incidents i ON i.id = f.incident_id
 WHERE f.flapping AND f.sampled_at <= statement_timestamp() - %(interval)s
 ORDER BY f.sampled_at
 LIMIT %(limit)s
   FOR UPDATE OF f SKIP LOCKED
"""


def flap_thresholds() -> FlapThresholds:
    settings = get_settings()
    return FlapThresholds(
        low=settings.flap_low_threshold,
        high=settings.flap_high_threshold,
        check_interval=timedelta(seconds=settings.flap_check_interval_seconds),
    )


def history_of(row: Mapping[str, Any]) -> FlapHistory:
    return FlapHistory(
        states=tuple(AlertState(state) for state in row["states"]),
        sampled_at=row["sampled_at"],
        flapping=row["flapping"],
        percent=row["percent"],
    )


def flap_records(rows: Sequence[Mapping[str, Any]]) -> dict[str, FlapRecord]:
    return {
        row["fingerprint"]: FlapRecord(history_of(row), row["incident_id"], row["incident_open"])
        for row in rows
    }


def flap_message(summary: str, history: FlapHistory, *, started: bool) -> str:
    percent = f"{history.percent:.0f}% state change over its last 21 states"
    if started:
        return (
            f"Alert is flapping ({percent}): its resolutions keep the incident open and"
            f" pages are held: {summary}"
        )
    return f"Alert stopped flapping ({percent}): {summary}"


def flap_columns(
    changes: Sequence[tuple[str, str, FlapHistory, FlapHistory, int | None, bool, bool]],
) -> dict[str, Any]:
    """Statement parameters for :data:`RECORD_FLAPS` from (fingerprint, summary, before,
    after, incident id, started, stopped) tuples."""
    return {
        "f_fingerprint": [fingerprint for fingerprint, *_ in changes],
        "f_states": [",".join(after.states) for _, _, _, after, *_ in changes],
        "f_sampled_at": [after.sampled_at for _, _, _, after, *_ in changes],
        "f_previous": [before.sampled_at for _, _, before, *_ in changes],
        "f_flapping": [after.flapping for _, _, _, after, *_ in changes],
        "f_percent": [after.percent for _, _, _, after, *_ in changes],
        "f_incident": [incident for *_, incident, _, _ in changes],
        "f_started": [started for *_, started, _ in changes],
        "f_stopped": [stopped for *_, stopped in changes],
        "f_message": [
            flap_message(summary, after, started=started)
            for _, summary, _, after, _, started, _ in changes
        ],
    }


def flap_arrays(signals: Sequence[AlertSignal], plan: RoundPlan) -> dict[str, Any]:
    by_fingerprint = {signal.fingerprint: signal for signal in signals}
    return flap_columns(
        [
            (
                fingerprint,
                by_fingerprint[fingerprint].summary,
                change.before,
                change.history,
                change.incident_id,
                change.started,
                change.stopped,
            )
            for fingerprint, change in sorted(plan.flaps.items())
        ]
    )


def flapping_stopped(plan: RoundPlan) -> set[int]:
    """Incidents whose alert stopped flapping in this round: they may close now."""
    return {
        change.incident_id
        for change in plan.flaps.values()
        if change.stopped and change.incident_id is not None
    }
