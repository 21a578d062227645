"""The escalation engine: one ``update_all`` step, safe to run again and from many replicas.

Each tick (1) starts an escalation for every newly triggered incident of a routed
service, then (2) takes the escalations that are due with ``FOR UPDATE SKIP LOCKED``,
asks the pure rule (``escalation.rules.evaluate_escalation``) what fires, writes the
notifications to the outbox and the steps to the incident timeline, and stores the
new state, all in one transaction. Two replicas ticking at once never take the same
escalation, and a crash before commit leaves the state as it was: nothing is
notified twice and nothing is skipped. Delivery of the outbox happens elsewhere
(``notification.delivery``), so a dead receiver never holds a tick up.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from prometheus_client import Counter
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, text
from sqlmodel import Session

from incident_platform.clock import utc_now
from incident_platform.escalation.rules import (
    EscalationPolicy,
    EscalationState,
    FiredStep,
    evaluate_escalation,
    should_escalate,
)
from incident_platform.escalation.store import TargetResolver, to_policy
from incident_platform.escalation.tables import EscalationPolicyRow

logger = logging.getLogger(__name__)

ESCALATION_STEPS = Counter(
    "escalation_steps_total", "Escalation steps fired by the engine.", ["step"]
)

# Incidents of a service bound to a policy after they opened are not paged retroactively.
_START_ESCALATIONS = text(
    """
INSERT INTO escalations (incident_id, escalation_policy_id, opened_at, next_step, repeats_done,
                         next_due_at, active, updated_at)
SELECT i.id, r.escalation_policy_id, i.created_at, 0, 0, i.created_at, true, now()
  FROM incidents i
  JOIN service_routing r ON r.service = i.service
 WHERE i.status = 'triggered'
   AND i.created_at >= r.updated_at
   AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.incident_id = i.id)
ON CONFLICT (incident_id) DO NOTHING
"""
)


# Acknowledging or resolving stops the paging, including retries not yet delivered.
_CANCEL_STALE_PAGES = text(
    """
UPDATE notifications n
   SET status = 'cancelled', last_error = 'incident is ' || i.status
  FROM incidents i
 WHERE n.incident_id = i.id
   AND n.status = 'pending'
   AND n.event = 'escalation'
   AND n.lease_until IS NULL
   AND i.status <> 'triggered'
"""
)


@dataclass
class TickReport:
    started: int = 0
    cancelled: int = 0
    evaluated: int = 0
    steps_fired: int = 0
    notifications: int = 0
    stopped: int = 0


_TAKE_DUE = """
SELECT e.incident_id, e.escalation_policy_id, e.opened_at, e.next_step, e.repeats_done,
       e.last_fired_at, i.status
  FROM escalations e JOIN incidents i ON i.id = e.incident_id
 WHERE e.active AND e.next_due_at <= %(now)s
 ORDER BY e.next_due_at
 LIMIT %(limit)s
   FOR UPDATE OF e SKIP LOCKED
"""

_SAVE_STATE = """
UPDATE escalations AS e
   SET next_step = u.next_step, repeats_done = u.repeats_done, last_fired_at = u.last_fired_at,
       next_due_at = u.next_due_at, active = u.next_due_at IS NOT NULL, updated_at = %(now)s
  FROM unnest(%(incident)b::bigint[], %(next_step)b::int[], %(repeats_done)b::int[],
              %(last_fired_at)b::timestamptz[], %(next_due_at)b::timestamptz[])
       AS u(incident_id, next_step, repeats_done, last_fired_at, next_due_at)
 WHERE e.incident_id = u.incident_id
"""

_QUEUE_PAGES = """
INSERT INTO notifications (incident_id, user_id, channel, address, event, step, status,
                           attempts, next_attempt_at, data, created_at)
SELECT incident_id, user_id, channel, address, 'escalation', step, 'pending', 0, %(now)s,
       data, %(now)s
  FROM unnest(%(incident)b::bigint[], %(user)b::uuid[], %(channel)b::text[],
              %(address)b::text[], %(step)b::int[], %(data)b::jsonb[])
       AS p(incident_id, user_id, channel, address, step, data)
"""

_RECORD_STEPS = """
INSERT INTO timeline_events (incident_id, at, kind, actor, message, data)
SELECT incident_id, %(now)s, 'escalated', 'escalation-engine', message, data
  FROM unnest(%(incident)b::bigint[], %(message)b::text[], %(data)b::jsonb[])
       AS t(incident_id, message, data)
"""


@dataclass
class _Writes:
    """What one batch of due escalations writes, as columns for set-based statements."""

    state: dict[str, list[Any]] = field(
        default_factory=lambda: {
            key: []
            for key in ("incident", "next_step", "repeats_done", "last_fired_at", "next_due_at")
        }
    )
    pages: dict[str, list[Any]] = field(
        default_factory=lambda: {
            key: [] for key in ("incident", "user", "channel", "address", "step", "data")
        }
    )
    steps: dict[str, list[Any]] = field(
        default_factory=lambda: {key: [] for key in ("incident", "message", "data")}
    )


def update_all(engine: Engine, now: datetime | None = None, *, batch: int = 1000) -> TickReport:
    """One engine step at ``now`` (a controllable clock in tests); repeat until nothing is due."""
    instant = now or utc_now()
    report = TickReport()
    with engine.begin() as connection:
        report.started = connection.execute(_START_ESCALATIONS).rowcount
        report.cancelled = connection.execute(_CANCEL_STALE_PAGES).rowcount
    # Policies, schedules and people are read once per tick, outside the locking transaction.
    with Session(engine, expire_on_commit=False) as lookups:
        resolver = TargetResolver(lookups, instant)
        policies: dict[Any, EscalationPolicy] = {}
        while True:
            taken = _process_due(engine, resolver, policies, instant, batch, report)
            if taken < batch:
                return report


def _process_due(
    engine: Engine,
    resolver: TargetResolver,
    policies: dict[Any, EscalationPolicy],
    now: datetime,
    batch: int,
    report: TickReport,
) -> int:
    raw = engine.raw_connection()
    try:
        connection: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
        try:
            rows = connection.execute(_TAKE_DUE, {"now": now, "limit": batch}).fetchall()
            writes = _Writes()
            for (
                incident_id,
                policy_id,
                opened_at,
                next_step,
                repeats_done,
                last_fired,
                status,
            ) in rows:
                report.evaluated += 1
                if not should_escalate(status):
                    report.stopped += 1
                    _keep_state(
                        writes,
                        incident_id,
                        EscalationState(next_step, repeats_done, last_fired),
                        None,
                    )
                    continue
                policy = policies.get(policy_id)
                if policy is None:
                    row = resolver.session.get(EscalationPolicyRow, policy_id)
                    assert row is not None  # the foreign key cascades deletes
                    policy = policies[policy_id] = to_policy(row)
                state = EscalationState(next_step, repeats_done, last_fired)
                decision = evaluate_escalation(policy, opened_at, state, now)
                for fired in decision.fire:
                    report.steps_fired += 1
                    report.notifications += _fire(writes, incident_id, fired, resolver)
                _keep_state(writes, incident_id, decision.state, decision.next_due_at)
            with connection.pipeline():
                connection.execute(_SAVE_STATE, {**writes.state, "now": now})
                if writes.pages["incident"]:
                    connection.execute(_QUEUE_PAGES, {**writes.pages, "now": now})
                if writes.steps["incident"]:
                    connection.execute(_RECORD_STEPS, {**writes.steps, "now": now})
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
    finally:
        raw.close()
    return len(rows)


def _keep_state(
    writes: _Writes, incident_id: int, state: EscalationState, next_due_at: datetime | None
) -> None:
    columns = writes.state
    columns["incident"].append(incident_id)
    columns["next_step"].append(state.next_step)
    columns["repeats_done"].append(state.repeats_done)
    columns["last_fired_at"].append(state.last_fired_at)
    columns["next_due_at"].append(next_due_at)


def _fire(writes: _Writes, incident_id: int, fired: FiredStep, resolver: TargetResolver) -> int:
    ESCALATION_STEPS.labels(step=str(fired.step_index + 1)).inc()
    resolved = [resolver.resolve(target) for target in fired.targets]
    notified = 0
    pages = writes.pages
    for target in resolved:
        for recipient in target.recipients:
            pages["incident"].append(incident_id)
            pages["user"].append(recipient.user_id)
            pages["channel"].append(recipient.channel.value)
            pages["address"].append(recipient.address)
            pages["step"].append(fired.step_index + 1)
            pages["data"].append(Jsonb({"repeat": fired.repeat, "target": target.description}))
            notified += 1
    who = ", ".join(target.description for target in resolved)
    repeat = f" (repeat {fired.repeat})" if fired.repeat else ""
    problems = [target.problem for target in resolved if target.problem]
    message = f"Escalation step {fired.step_index + 1}{repeat}: notifying {who}"
    if problems:
        message += "; " + "; ".join(problems)
    writes.steps["incident"].append(incident_id)
    writes.steps["message"].append(message)
    writes.steps["data"].append(
        Jsonb(
            {
                "step": fired.step_index + 1,
                "repeat": fired.repeat,
                "due_at": fired.due_at.isoformat(),
                "notifications": notified,
                "problems": problems,
            }
        )
    )
    return notified
