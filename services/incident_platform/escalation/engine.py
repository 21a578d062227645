"""The escalation engine: one ``update_all`` step, safe to run again and from many replicas.

Each tick (1) starts an escalation for every incident of a routed service that
``escalation.rules.starts_escalation`` says should start and cancels the pending pages
``rules.cancels_pending_pages`` says are stale, then (2) takes the escalations that are
due with ``FOR UPDATE SKIP LOCKED``, asks the pure rule (``rules.evaluate_escalation``)
what fires, writes the notifications to the outbox and the steps to the incident
timeline, and stores the new state, all in one transaction. A starting escalation that
is due at once is evaluated in (1) the same way and stored in the state that left it
in, with its pages; one engine at a time starts escalations (an advisory lock the others
do not wait for). Two replicas ticking at once never take the same escalation, and a
crash before commit leaves the state as it was: nothing is notified twice and nothing is
skipped. Delivery of the outbox happens elsewhere (``notification.delivery``), so a dead
receiver never holds a tick up.

Writes are set-based (one statement per table over binary arrays) and go out in
pipeline mode every ``WRITE_ROUND`` incidents, so that PostgreSQL stores one round while
the engine evaluates the next; targets, pages and messages are worked out once per step
and tick, not once per incident: a storm of 10,000 incidents pages the same few people.

One broken object breaks only the incidents that use it: each incident is evaluated on
its own, and an exception while doing so (a policy, schedule, override or person that
the rules cannot compute with, whether it came from the API or was written into the
database by hand) is caught, logged, counted in ``escalation_errors_total{reason}``,
recorded on that incident's timeline (``escalation_failed``) and retried with backoff,
while the other incidents of the batch are paged on time. A step that reaches nobody is
recorded (``unpageable``) and counted in ``escalation_unpageable_total{service}``, and
so is every failed evaluation: an incident that cannot be paged is never silent.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from prometheus_client import Counter
from sqlalchemy import Engine
from sqlmodel import Session

from incident_platform.clock import utc_now
from incident_platform.db import is_outage
from incident_platform.escalation import tables
from incident_platform.escalation.rules import (
    FLAPPING_RECHECK,
    EscalationPolicy,
    EscalationState,
    FiredStep,
    PagingDecision,
    Target,
    cancels_pending_pages,
    evaluate_escalation,
    failure_backoff,
    paging_decision,
    should_escalate,
    starts_escalation,
)
from incident_platform.escalation.store import ResolvedTarget, TargetResolver, to_policy
from incident_platform.incident.lifecycle import IncidentStatus
from incident_platform.incident.tables import TimelineKind

logger = logging.getLogger(__name__)

ESCALATION_STEPS = Counter(
    "escalation_steps_total", "Escalation steps fired by the engine.", ["step"]
)
ESCALATION_ERRORS = Counter(
    "escalation_errors_total",
    "Incident escalations that could not be evaluated (retried with backoff), by reason:"
    " policy_unreadable, target_unresolvable, rule_failed.",
    ["reason"],
)
ESCALATION_UNPAGEABLE = Counter(
    "escalation_unpageable_total",
    "Times an incident of a routed service was due a page and nobody could be paged"
    " (a step that reached nobody, or an escalation that could not be evaluated).",
    ["service"],
)

# Incidents of routed services without an escalation, for ``rules.starts_escalation``;
# ``escalating`` (the statuses that escalate) only narrows the read.
_ESCALATION_CANDIDATES = """
SELECT i.id, i.status, i.created_at, r.updated_at AS routed_since, r.escalation_policy_id,
       i.service, i.flapping
  FROM incidents i
  JOIN service_routing r ON r.service = i.service
 WHERE i.status = ANY(%(escalating)s)
   AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.incident_id = i.id)
"""

# One engine starts escalations at a time, across replicas (pg advisory lock key); the
# others skip starting for that tick. It is what lets the starter evaluate an escalation
# before storing it: no other engine can store the same one meanwhile.
START_LOCK = 0xE5_CA_1A_7E
_TAKE_START_LOCK = "SELECT pg_try_advisory_xact_lock(%(key)s)"

# Escalations not yet due (an incident opened after ``now``), stored in the initial state.
_START_ESCALATIONS = """
INSERT INTO escalations (incident_id, escalation_policy_id, opened_at, next_step, repeats_done,
                         next_due_at, active, updated_at)
SELECT s.incident_id, s.policy_id, s.opened_at, 0, 0, s.opened_at, true, now()
  FROM unnest(%(incident)b::bigint[], %(policy)b::uuid[], %(opened_at)b::timestamptz[])
       AS s(incident_id, policy_id, opened_at)
ON CONFLICT (incident_id) DO NOTHING
"""

# Escalations due at once, stored in the state their first evaluation left them in, as
# ``_SAVE_STATE`` would have. No ON CONFLICT: pages were computed for each of these rows,
# so one stored meanwhile by an engine not taking ``START_LOCK`` aborts the start.
_START_EVALUATED = """
INSERT INTO escalations (incident_id, escalation_policy_id, opened_at, next_step, repeats_done,
                         last_fired_at, next_due_at, active, updated_at, failures, last_error)
SELECT s.incident_id, s.policy_id, s.opened_at, s.next_step, s.repeats_done, s.last_fired_at,
       s.next_due_at, s.next_due_at IS NOT NULL, %(now)s, s.failures, s.last_error
  FROM unnest(%(incident)b::bigint[], %(policy)b::uuid[], %(opened_at)b::timestamptz[],
              %(next_step)b::int[], %(repeats_done)b::int[], %(last_fired_at)b::timestamptz[],
              %(next_due_at)b::timestamptz[], %(failures)b::int[], %(last_error)b::text[])
       AS s(incident_id, policy_id, opened_at, next_step, repeats_done, last_fired_at,
            next_due_at, failures, last_error)
"""


# ``cancelling``: the statuses whose pending pages ``rules.cancels_pending_pages`` cancels.
_CANCEL_STALE_PAGES = """
UPDATE notifications n
   SET status = 'cancelled', last_error = 'incident is ' || i.status
  FROM incidents i
 WHERE n.incident_id = i.id
   AND n.status = 'pending'
   AND n.event = 'escalation'
   AND n.lease_until IS NULL
   AND i.status = ANY(%(cancelling)s)
"""

_ESCALATING = [status.value for status in IncidentStatus if should_escalate(status)]
_CANCELLING = [status.value for status in IncidentStatus if cancels_pending_pages(status)]


@dataclass
class TickReport:
    started: int = 0
    cancelled: int = 0
    evaluated: int = 0
    steps_fired: int = 0
    notifications: int = 0
    stopped: int = 0
    failed: int = 0
    unpageable: int = 0
    held: int = 0  # flapping incidents whose due pages wait


_TAKE_DUE = """
SELECT e.incident_id, e.escalation_policy_id, e.opened_at, e.next_step, e.repeats_done,
       e.last_fired_at, i.status, i.service, e.failures, e.last_error, i.flapping
  FROM escalations e JOIN incidents i ON i.id = e.incident_id
 WHERE e.active AND e.next_due_at <= %(now)s
 ORDER BY e.next_due_at
 LIMIT %(limit)s
   FOR UPDATE OF e SKIP LOCKED
"""

_SAVE_STATE = """
UPDATE escalations AS e
   SET next_step = u.next_step, repeats_done = u.repeats_done, last_fired_at = u.last_fired_at,
       next_due_at = u.next_due_at, active = u.next_due_at IS NOT NULL, updated_at = %(now)s,
       failures = u.failures, last_error = u.last_error
  FROM unnest(%(incident)b::bigint[], %(next_step)b::int[], %(repeats_done)b::int[],
              %(last_fired_at)b::timestamptz[], %(next_due_at)b::timestamptz[],
              %(failures)b::int[], %(last_error)b::text[])
       AS u(incident_id, next_step, repeats_done, last_fired_at, next_due_at, failures,
            last_error)
 WHERE e.incident_id = u.incident_id
"""

_QUEUE_PAGES = """
INSERT INTO notifications (incident_id, user_id, channel, address, event, step, status,
                           attempts, next_attempt_at, data, created_at)
SELECT incident_id, user_id, channel, address, 'escalation', step, 'pending', 0, %(now)s,
       data::jsonb, %(now)s
  FROM unnest(%(incident)b::bigint[], %(user)b::uuid[], %(channel)b::text[],
              %(address)b::text[], %(step)b::int[], %(data)b::text[])
       AS p(incident_id, user_id, channel, address, step, data)
"""

_RECORD_STEPS = """
INSERT INTO timeline_events (incident_id, at, kind, actor, message, data)
SELECT incident_id, %(now)s, kind, 'escalation-engine', message, data::jsonb
  FROM unnest(%(incident)b::bigint[], %(kind)b::text[], %(message)b::text[],
              %(data)b::text[])
       AS t(incident_id, kind, message, data)
"""

_STATE_COLUMNS = (
    "incident",
    "next_step",
    "repeats_done",
    "last_fired_at",
    "next_due_at",
    "failures",
    "last_error",
)
_PAGE_COLUMNS = ("incident", "user", "channel", "address", "step", "data")
_STEP_COLUMNS = ("incident", "kind", "message", "data")


@dataclass
class _Writes:
    """What one batch of due escalations writes, as columns for set-based statements.

    JSON documents travel as text (``json.dumps``) and become jsonb in the statement:
    cheaper to send than psycopg's per-value ``Jsonb`` adaptation, and the same jsonb.
    """

    state: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in _STATE_COLUMNS})
    pages: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in _PAGE_COLUMNS})
    steps: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in _STEP_COLUMNS})

    def mark(self) -> tuple[int, int, int]:
        """Where the batch stands now, for :meth:`undo`."""
        return len(self.state["incident"]), len(self.pages["incident"]), len(self.steps["incident"])

    def undo(self, mark: tuple[int, int, int]) -> None:
        """Drops everything added since ``mark``: one incident's writes join the batch only
        if all of it worked."""
        for columns, length in zip((self.state, self.pages, self.steps), mark, strict=True):
            for values in columns.values():
                del values[length:]

    def record(self, incident_id: int, kind: str, message: str, data: dict[str, Any]) -> None:
        self.steps["incident"].append(incident_id)
        self.steps["kind"].append(kind)
        self.steps["message"].append(message)
        self.steps["data"].append(json.dumps(data))


@dataclass(frozen=True, slots=True)
class _Due:
    """One due escalation as taken from the database."""

    incident_id: int
    policy_id: Any
    opened_at: datetime
    state: EscalationState
    status: str
    service: str
    failures: int
    last_error: str | None
    flapping: bool = False


@dataclass(frozen=True, slots=True)
class _StepPages:
    """What firing one step pages at this tick, the same for every incident it fires for:
    the targets resolved once, their pages' columns, the timeline message."""

    resolved: list[ResolvedTarget]
    users: list[Any]
    channels: list[str]
    addresses: list[str]
    data: list[str]
    message: str
    problems: list[str]
    fired: Counter  # ESCALATION_STEPS for this step

    @classmethod
    def of(cls, fired: FiredStep, resolved: list[ResolvedTarget]) -> "_StepPages":
        recipients = [(target, recipient) for target in resolved for recipient in target.recipients]
        who = ", ".join(target.description for target in resolved)
        repeat = f" (repeat {fired.repeat})" if fired.repeat else ""
        problems = [target.problem for target in resolved if target.problem]
        message = f"Escalation step {fired.step_index + 1}{repeat}: notifying {who}"
        if problems:
            message += "; " + "; ".join(problems)
        return cls(
            resolved=resolved,
            users=[recipient.user_id for _, recipient in recipients],
            channels=[recipient.channel.value for _, recipient in recipients],
            addresses=[recipient.address for _, recipient in recipients],
            data=[
                json.dumps({"repeat": fired.repeat, "target": target.description})
                for target, _ in recipients
            ],
            message=message,
            problems=problems,
            fired=ESCALATION_STEPS.labels(step=str(fired.step_index + 1)),
        )


# Keyed by (step index, repeat, targets): all a step's pages and message depend on.
_StepCache = dict[tuple[int, int, tuple[Target, ...]], _StepPages]


class _Failure(Exception):
    """Evaluating one incident's escalation failed at ``stage``; ``__cause__`` says why."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


@dataclass
class _Tick:
    """What one tick reads once and shares between its batches."""

    resolver: TargetResolver
    now: datetime
    report: TickReport
    policies: dict[Any, EscalationPolicy | Exception] = field(default_factory=dict)
    steps: _StepCache = field(default_factory=dict)


def update_all(engine: Engine, now: datetime | None = None, *, batch: int = 1000) -> TickReport:
    """One engine step at ``now`` (a controllable clock in tests); repeat until nothing is due."""
    instant = now or utc_now()
    report = TickReport()
    raw = engine.raw_connection()
    try:
        connection: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
        # Policies, schedules and people are read once per tick, outside the locking
        # transactions.
        with Session(engine, expire_on_commit=False) as lookups:
            tick = _Tick(TargetResolver(lookups, instant), instant, report)
            with _transaction(connection):
                report.started = _start_escalations(connection, tick)
                report.cancelled = connection.execute(
                    _CANCEL_STALE_PAGES, {"cancelling": _CANCELLING}
                ).rowcount
            while _process_due(connection, tick, batch) == batch:
                pass
    finally:
        raw.close()
    return report


def _start_escalations(connection: psycopg.Connection[Any], tick: _Tick) -> int:
    """Starts the escalations ``rules.starts_escalation`` says should start; how many.

    An escalation starts in the initial state, due when its incident opened. One already
    due (nearly always: the incident has just opened) is evaluated here, as a batch of
    due escalations would evaluate it, and stored in the state that left it in with its
    pages and timeline: storing the initial state to take it back, lock it and update it
    a moment later cost a storm of 10,000 incidents more than paging them.
    """
    locked = connection.execute(_TAKE_START_LOCK, {"key": START_LOCK}).fetchone()
    if locked is None or not locked[0]:
        return 0  # another engine is starting them
    # Binary results and arrays: a storm reads and writes 10,000 rows here, and parsing
    # or formatting timestamps and uuids as text would cost more than the statements.
    candidates = connection.execute(
        _ESCALATION_CANDIDATES, {"escalating": _ESCALATING}, binary=True
    )
    later: dict[str, list[Any]] = {"incident": [], "policy": [], "opened_at": []}
    started = 0
    with connection.pipeline():
        writes, opened = _Writes(), _Opened()
        for (
            incident_id,
            status,
            created_at,
            routed_since,
            policy_id,
            service,
            flapping,
        ) in candidates:
            if not starts_escalation(status, opened_at=created_at, routed_since=routed_since):
                continue
            if created_at > tick.now:
                later["incident"].append(incident_id)
                later["policy"].append(policy_id)
                later["opened_at"].append(created_at)
                continue
            due = _Due(
                incident_id=incident_id,
                policy_id=policy_id,
                opened_at=created_at,
                state=EscalationState(),
                status=status,
                service=service,
                failures=0,
                last_error=None,
                flapping=flapping,
            )
            _evaluate(writes, due, tick)
            opened.add(due)
            if len(opened.policy) >= WRITE_ROUND:
                started += _send(connection, writes, tick.now, opened)
                writes, opened = _Writes(), _Opened()
        started += _send(connection, writes, tick.now, opened)
        not_due = connection.execute(_START_ESCALATIONS, later) if later["incident"] else None
    return started + (not_due.rowcount if not_due is not None else 0)


@contextmanager
def _transaction(connection: psycopg.Connection[Any]) -> Iterator[None]:
    try:
        yield
        connection.commit()
    except BaseException:
        connection.rollback()
        raise


# Incidents per round of writes within a batch. The writes go out in pipeline mode, so
# PostgreSQL stores one round while the engine evaluates the next: on a storm the two
# halves of the work overlap instead of taking turns.
WRITE_ROUND = 250


def _process_due(connection: psycopg.Connection[Any], tick: _Tick, batch: int) -> int:
    """Takes, evaluates and writes one batch of due escalations; how many it took."""
    now = tick.now
    with _transaction(connection):
        # Iterated, not fetched all at once: each row's objects die young, which keeps
        # 10,000 incidents from setting off full garbage collections of the process.
        rows = connection.execute(_TAKE_DUE, {"now": now, "limit": batch}, binary=True)
        taken = rows.rowcount
        with connection.pipeline():
            writes = _Writes()
            for row in rows:
                due = _Due(
                    incident_id=row[0],
                    policy_id=row[1],
                    opened_at=row[2],
                    state=EscalationState(row[3], row[4], row[5]),
                    status=row[6],
                    service=row[7],
                    failures=row[8],
                    last_error=row[9],
                    flapping=row[10],
                )
                _evaluate(writes, due, tick)
                if len(writes.state["incident"]) >= WRITE_ROUND:
                    _send(connection, writes, now)
                    writes = _Writes()
            _send(connection, writes, now)
    return taken


def _evaluate(writes: _Writes, due: _Due, tick: _Tick) -> None:
    """Adds what one due escalation writes; a failure is the incident's own, unless the
    database is out."""
    report = tick.report
    report.evaluated += 1
    decision = paging_decision(due.status, flapping=due.flapping)
    if decision is PagingDecision.STOP:
        report.stopped += 1
        _keep_state(writes, due.incident_id, due.state, None)
        return
    if decision is PagingDecision.HOLD:
        report.held += 1
        _keep_state(writes, due.incident_id, due.state, tick.now + FLAPPING_RECHECK)
        return
    mark = writes.mark()
    try:
        _escalate(writes, due, tick)
    except _Failure as failure:
        cause = failure.__cause__
        if cause is not None and is_outage(cause):
            raise cause from None  # the database, not this incident: retry all
        tick.resolver.session.rollback()
        writes.undo(mark)
        _record_failure(writes, due, failure, tick.now, report)


@dataclass
class _Opened:
    """The escalations a round of ``_start_escalations`` stores: one per state row."""

    policy: list[Any] = field(default_factory=list)
    opened_at: list[datetime] = field(default_factory=list)

    def add(self, due: _Due) -> None:
        self.policy.append(due.policy_id)
        self.opened_at.append(due.opened_at)


def _send(
    connection: psycopg.Connection[Any],
    writes: _Writes,
    now: datetime,
    opened: _Opened | None = None,
) -> int:
    """Queues the statements storing ``writes`` (inserting the escalations ``opened``, if
    given, else updating them); how many escalations. In pipeline mode the statements run
    while the engine goes on, and a failure surfaces at the latest when the pipeline ends."""
    state = writes.state
    if state["incident"]:
        if opened is None:
            connection.execute(_SAVE_STATE, {**state, "now": now})
        else:
            assert len(opened.policy) == len(state["incident"])  # one state row per incident
            connection.execute(
                _START_EVALUATED,
                {**state, "policy": opened.policy, "opened_at": opened.opened_at, "now": now},
            )
    if writes.pages["incident"]:
        connection.execute(_QUEUE_PAGES, {**writes.pages, "now": now})
    if writes.steps["incident"]:
        connection.execute(_RECORD_STEPS, {**writes.steps, "now": now})
    return len(state["incident"])


def _policy(due: _Due, tick: _Tick) -> EscalationPolicy:
    """The incident's policy, read once per tick; a broken one fails every incident using it."""
    policies = tick.policies
    if due.policy_id not in policies:
        try:
            row = tick.resolver.session.get(tables.EscalationPolicy, due.policy_id)
            assert row is not None  # the foreign key cascades deletes
            policies[due.policy_id] = to_policy(row)
        except Exception as error:
            policies[due.policy_id] = error
    policy = policies[due.policy_id]
    if isinstance(policy, Exception):
        raise _Failure("policy_unreadable") from policy
    return policy


def _step_pages(fired: FiredStep, tick: _Tick) -> _StepPages:
    """Who ``fired`` pages, resolved once per tick; a failed resolution is not kept, so
    the next incident tries again (and fails on its own if it still fails)."""
    key = (fired.step_index, fired.repeat, fired.targets)
    pages = tick.steps.get(key)
    if pages is None:
        try:
            resolved = [tick.resolver.resolve(target) for target in fired.targets]
        except Exception as error:
            raise _Failure("target_unresolvable") from error
        pages = tick.steps[key] = _StepPages.of(fired, resolved)
    return pages


def _escalate(writes: _Writes, due: _Due, tick: _Tick) -> None:
    policy = _policy(due, tick)
    report = tick.report
    try:
        decision = evaluate_escalation(policy, due.opened_at, due.state, tick.now)
    except Exception as error:
        raise _Failure("rule_failed") from error
    for fired in decision.fire:
        pages = _step_pages(fired, tick)
        report.steps_fired += 1
        notified = _fire(writes, due.incident_id, fired, pages)
        report.notifications += notified
        if notified == 0:
            _record_unpageable(writes, due, fired, pages.resolved, report)
    _keep_state(writes, due.incident_id, decision.state, decision.next_due_at)


def _record_failure(
    writes: _Writes, due: _Due, failure: _Failure, now: datetime, report: TickReport
) -> None:
    """Keep the escalation where it was, due again after a backoff, and say why."""
    cause = failure.__cause__
    detail = f"{type(cause).__name__}: {cause}" if cause is not None else failure.stage
    reason = f"{failure.stage.replace('_', ' ')} ({detail})"[:1000]
    failures = due.failures + 1
    retry_at = now + failure_backoff(failures)
    logger.error(
        "escalation of incident %s (service %s) failed, attempt %d, retrying at %s: %s",
        due.incident_id,
        due.service,
        failures,
        retry_at.isoformat(),
        reason,
        exc_info=cause,
    )
    ESCALATION_ERRORS.labels(reason=failure.stage).inc()
    ESCALATION_UNPAGEABLE.labels(service=due.service).inc()
    report.failed += 1
    _keep_state(writes, due.incident_id, due.state, retry_at, failures=failures, error=reason)
    # On the timeline once per streak and whenever the reason changes, not every retry.
    if due.last_error != reason:
        writes.record(
            due.incident_id,
            TimelineKind.ESCALATION_FAILED.value,
            f"Could not escalate, nobody was paged: {reason}; retrying at {retry_at.isoformat()}",
            {
                "reason": failure.stage,
                "error": reason,
                "attempt": failures,
                "retry_at": retry_at.isoformat(),
            },
        )


def _record_unpageable(
    writes: _Writes,
    due: _Due,
    fired: FiredStep,
    resolved: list[ResolvedTarget],
    report: TickReport,
) -> None:
    problems = [target.problem or f"{target.description}: no address" for target in resolved]
    logger.warning(
        "incident %s (service %s): escalation step %d paged nobody: %s",
        due.incident_id,
        due.service,
        fired.step_index + 1,
        "; ".join(problems),
    )
    ESCALATION_UNPAGEABLE.labels(service=due.service).inc()
    report.unpageable += 1
    writes.record(
        due.incident_id,
        TimelineKind.UNPAGEABLE.value,
        f"Nobody was paged by escalation step {fired.step_index + 1}: {'; '.join(problems)}",
        {"step": fired.step_index + 1, "repeat": fired.repeat, "problems": problems},
    )


def _keep_state(
    writes: _Writes,
    incident_id: int,
    state: EscalationState,
    next_due_at: datetime | None,
    *,
    failures: int = 0,
    error: str | None = None,
) -> None:
    columns = writes.state
    columns["incident"].append(incident_id)
    columns["next_step"].append(state.next_step)
    columns["repeats_done"].append(state.repeats_done)
    columns["last_fired_at"].append(state.last_fired_at)
    columns["next_due_at"].append(next_due_at)
    columns["failures"].append(failures)
    columns["last_error"].append(error)


def _fire(writes: _Writes, incident_id: int, fired: FiredStep, pages: _StepPages) -> int:
    pages.fired.inc()
    notified = len(pages.users)
    columns = writes.pages
    columns["incident"].extend([incident_id] * notified)
    columns["user"].extend(pages.users)
    columns["channel"].extend(pages.channels)
    columns["address"].extend(pages.addresses)
    columns["step"].extend([fired.step_index + 1] * notified)
    columns["data"].extend(pages.data)
    writes.record(
        incident_id,
        TimelineKind.ESCALATED.value,
        pages.message,
        {
            "step": fired.step_index + 1,
            "repeat": fired.repeat,
            "due_at": fired.due_at.isoformat(),
            "notifications": notified,
            "problems": pages.problems,
        },
    )
    return notified
