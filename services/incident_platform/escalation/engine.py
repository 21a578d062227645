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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Engine, select, text
from sqlmodel import Session, col

from incident_platform.clock import utc_now
from incident_platform.escalation.rules import (
    EscalationPolicy,
    EscalationState,
    FiredStep,
    evaluate_escalation,
    should_escalate,
)
from incident_platform.escalation.store import TargetResolver, to_policy
from incident_platform.escalation.tables import Escalation, EscalationPolicyRow
from incident_platform.incident.models import Incident, TimelineEvent, TimelineKind
from incident_platform.notification.models import Notification

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


def update_all(engine: Engine, now: datetime | None = None, *, batch: int = 1000) -> TickReport:
    """One engine step at ``now`` (a controllable clock in tests); repeat until nothing is due."""
    instant = now or utc_now()
    report = TickReport()
    with Session(engine, expire_on_commit=False) as session:
        report.started = session.execute(_START_ESCALATIONS).rowcount  # type: ignore[attr-defined]
        report.cancelled = session.execute(_CANCEL_STALE_PAGES).rowcount  # type: ignore[attr-defined]
        session.commit()
    while True:
        with Session(engine, expire_on_commit=False) as session:
            taken = _process_due(session, instant, batch, report)
            session.commit()
        if taken < batch:
            return report


def _process_due(session: Session, now: datetime, batch: int, report: TickReport) -> int:
    rows = session.execute(
        select(Escalation, col(Incident.status))
        .join(Incident, col(Incident.id) == col(Escalation.incident_id))
        .where(col(Escalation.active), col(Escalation.next_due_at) <= now)
        .order_by(col(Escalation.next_due_at))
        .limit(batch)
        .with_for_update(of=Escalation, skip_locked=True)
    ).all()
    policies: dict[Any, EscalationPolicy] = {}
    resolver = TargetResolver(session, now)
    for escalation, status in rows:
        report.evaluated += 1
        if not should_escalate(status):
            escalation.active = False
            escalation.next_due_at = None
            report.stopped += 1
            continue
        policy = policies.get(escalation.escalation_policy_id)
        if policy is None:
            row = session.get(EscalationPolicyRow, escalation.escalation_policy_id)
            assert row is not None  # the foreign key cascades deletes
            policy = policies[escalation.escalation_policy_id] = to_policy(row)
        state = EscalationState(
            escalation.next_step, escalation.repeats_done, escalation.last_fired_at
        )
        decision = evaluate_escalation(policy, escalation.opened_at, state, now)
        for fired in decision.fire:
            report.steps_fired += 1
            report.notifications += _fire(session, escalation.incident_id, fired, resolver, now)
        escalation.next_step = decision.state.next_step
        escalation.repeats_done = decision.state.repeats_done
        escalation.last_fired_at = decision.state.last_fired_at
        escalation.next_due_at = decision.next_due_at
        escalation.active = decision.next_due_at is not None
        escalation.updated_at = now
    return len(rows)


def _fire(
    session: Session, incident_id: int, fired: FiredStep, resolver: TargetResolver, now: datetime
) -> int:
    ESCALATION_STEPS.labels(step=str(fired.step_index + 1)).inc()
    resolved = [resolver.resolve(target) for target in fired.targets]
    notified = 0
    for target in resolved:
        for recipient in target.recipients:
            session.add(
                Notification(
                    incident_id=incident_id,
                    user_id=recipient.user_id,
                    channel=recipient.channel,
                    address=recipient.address,
                    event="escalation",
                    step=fired.step_index + 1,
                    next_attempt_at=now,
                    data={"repeat": fired.repeat, "target": target.description},
                )
            )
            notified += 1
    who = ", ".join(target.description for target in resolved)
    repeat = f" (repeat {fired.repeat})" if fired.repeat else ""
    problems = [target.problem for target in resolved if target.problem]
    message = f"Escalation step {fired.step_index + 1}{repeat}: notifying {who}"
    if problems:
        message += "; " + "; ".join(problems)
    session.add(
        TimelineEvent(
            incident_id=incident_id,
            at=now,
            kind=TimelineKind.ESCALATED,
            actor="escalation-engine",
            message=message,
            data={
                "step": fired.step_index + 1,
                "repeat": fired.repeat,
                "due_at": fired.due_at.isoformat(),
                "notifications": notified,
                "problems": problems,
            },
        )
    )
    return notified
