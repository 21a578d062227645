"""Escalation policies as pure rules: which steps are due, and what comes next.

Timing, all in one place:

* Step 0 is due ``delay_minutes`` after the incident opened (0 = at once).
* Within one pass, step i is due ``delay_minutes`` after step i-1 was DUE - not after the
  engine got round to firing it - so engine lag never accumulates: the steps keep the
  timeline the policy describes, measured from the incident opening.
* After the last step, the policy repeats up to ``repeat`` more times. A repeat's
  first step comes :func:`repeat_gap` after the previous pass actually finished:
  ``max(first step's delay, last step's delay)``, which gives the last level at least
  as long to answer as the level before it had, and never less than the policy's
  own opening delay. A repeating policy must make that gap positive.
* Catch-up after an outage: every step that came due fires, each exactly once and in
  order (no escalation level is skipped), but never past the end of a pass: repeats
  re-notify the same people, so they are not burst out - the next pass waits a full
  gap from the moment the catch-up finished the current one.
* Escalation starts for a triggered incident of a routed service that opened once the
  service was routed (:func:`starts_escalation`): routing a service does not page its
  incidents retroactively.
* Acknowledged or resolved incidents escalate no further (:func:`should_escalate`), and
  their escalation pages not yet sent are cancelled (:func:`cancels_pending_pages`).
* A flapping incident's pages are held (:func:`paging_decision`): its due steps wait,
  checked again every :data:`FLAPPING_RECHECK`, and fire once it stops flapping (as
  after an outage, each due step once, in order), unless it settled meanwhile.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeAlias
from urllib.parse import urlsplit

from incident_platform.incident.lifecycle import IncidentStatus

MAX_REPEAT = 10
MAX_DELAY_MINUTES = 30 * 24 * 60

ESCALATING_STATUSES: frozenset[IncidentStatus] = frozenset({IncidentStatus.TRIGGERED})
"""The escalating-statuses rule: only an unacknowledged, unresolved incident is paged for."""


@dataclass(frozen=True, slots=True)
class ScheduleTarget:
    """Whoever the schedule has on call when the step fires."""

    id: str


@dataclass(frozen=True, slots=True)
class UserTarget:
    id: str


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    url: str


Target: TypeAlias = ScheduleTarget | UserTarget | WebhookTarget


@dataclass(frozen=True, slots=True)
class EscalationStep:
    delay_minutes: int
    targets: tuple[Target, ...]


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    name: str
    steps: tuple[EscalationStep, ...]
    repeat: int = 0


@dataclass(frozen=True, slots=True)
class EscalationState:
    """Where an incident is in its policy; the initial state is ``EscalationState()``.

    ``next_step == len(steps)`` means the current pass has finished (a repeat may follow).
    ``repeats_done`` counts repeat passes started (0 during the first pass).
    ``last_fired_at`` is what the next step's delay counts from: the due time of the
    step fired last, or, once a pass has finished, the moment it actually finished.
    None until the first step fires (the delay then counts from the incident opening).
    """

    next_step: int = 0
    repeats_done: int = 0
    last_fired_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FiredStep:
    step_index: int
    repeat: int  # 0 for the first pass, 1 for the first repeat, ...
    due_at: datetime  # when it was due; earlier than now after an outage
    targets: tuple[Target, ...]


@dataclass(frozen=True, slots=True)
class EscalationDecision:
    fire: tuple[FiredStep, ...]  # in order; empty when nothing is due yet
    state: EscalationState  # persist this
    next_due_at: datetime | None  # when to evaluate again; None once the policy is exhausted


def should_escalate(status: str) -> bool:
    """The keep-escalating rule: only a triggered (:data:`ESCALATING_STATUSES`) incident
    keeps escalating.

    An unknown status raises ValueError rather than silently paging or not paging.
    """
    try:
        known = IncidentStatus(status)
    except ValueError:
        raise ValueError(f"status: unknown incident status {status!r}") from None
    return known in ESCALATING_STATUSES


def starts_escalation(status: str, opened_at: datetime, routed_since: datetime) -> bool:
    """The escalation-start rule: an incident of a service routed to a policy starts
    escalating if it is escalating (:func:`should_escalate`) and opened no earlier than
    the service was routed (``routed_since``). Incidents already open when a service is
    bound to a policy are not paged retroactively."""
    return should_escalate(status) and opened_at >= routed_since


def cancels_pending_pages(status: str) -> bool:
    """The cancel-pending-pages rule: once an incident stops escalating (acknowledged or
    resolved), its escalation pages not yet sent are cancelled, retries included."""
    return not should_escalate(status)


class PagingDecision(StrEnum):
    PAGE = "page"
    HOLD = "hold"  # not now: look again later
    STOP = "stop"  # never again for this incident


FLAPPING_RECHECK = timedelta(seconds=30)


def paging_decision(status: str, *, flapping: bool) -> PagingDecision:
    """The may-this-incident-be-paged-now rule: a settled incident never again (see
    :func:`should_escalate`), a flapping one not while it flaps, any other now."""
    if not should_escalate(status):
        return PagingDecision.STOP
    if flapping:
        return PagingDecision.HOLD
    return PagingDecision.PAGE


def repeat_gap(policy: EscalationPolicy) -> timedelta:
    minutes = max(policy.steps[0].delay_minutes, policy.steps[-1].delay_minutes)
    return timedelta(minutes=minutes)


def next_due_at(
    policy: EscalationPolicy, opened_at: datetime, state: EscalationState
) -> datetime | None:
    """When the next step is due, or None once the policy (and its repeats) is done."""
    anchor = opened_at if state.last_fired_at is None else state.last_fired_at
    if state.next_step >= len(policy.steps):
        if state.repeats_done >= policy.repeat:
            return None
        return anchor + repeat_gap(policy)
    return anchor + timedelta(minutes=policy.steps[state.next_step].delay_minutes)


def evaluate_escalation(
    policy: EscalationPolicy, opened_at: datetime, state: EscalationState, now: datetime
) -> EscalationDecision:
    """The steps to fire at ``now`` (each due step once, in order) and the state after."""
    fired: list[FiredStep] = []
    while (due := next_due_at(policy, opened_at, state)) is not None and due <= now:
        if state.next_step >= len(policy.steps):
            state = EscalationState(0, state.repeats_done + 1, state.last_fired_at)
        step = policy.steps[state.next_step]
        fired.append(FiredStep(state.next_step, state.repeats_done, due, step.targets))
        if state.next_step == len(policy.steps) - 1:
            # The pass is over: the repeat gap counts from now, and the catch-up stops here.
            state = EscalationState(len(policy.steps), state.repeats_done, now)
            break
        state = EscalationState(state.next_step + 1, state.repeats_done, due)
    return EscalationDecision(tuple(fired), state, next_due_at(policy, opened_at, state))


def validate_policy(policy: EscalationPolicy) -> None:
    """Raise ValueError naming the field of the first problem in ``policy``."""
    if not policy.name.strip():
        raise ValueError("name: a policy needs a name")
    if not policy.steps:
        raise ValueError("steps: a policy needs at least one step")
    for index, step in enumerate(policy.steps):
        if not 0 <= step.delay_minutes <= MAX_DELAY_MINUTES:
            raise ValueError(
                f"steps[{index}].delay_minutes: must be between 0 and {MAX_DELAY_MINUTES}"
            )
        if not step.targets:
            raise ValueError(f"steps[{index}].targets: a step needs at least one target")
        for position, target in enumerate(step.targets):
            field = f"steps[{index}].targets[{position}]"
            if isinstance(target, WebhookTarget):
                if (problem := webhook_url_problem(target.url)) is not None:
                    raise ValueError(f"{field}.url: {problem}")
            elif not target.id:
                raise ValueError(f"{field}.id: must not be empty")
    if not 0 <= policy.repeat <= MAX_REPEAT:
        raise ValueError(f"repeat: must be between 0 and {MAX_REPEAT}")
    if policy.repeat and repeat_gap(policy) <= timedelta(0):
        raise ValueError(f"repeat: {REPEAT_NEEDS_A_GAP}")


REPEAT_NEEDS_A_GAP = (
    "a repeating policy needs a positive delay on its first or last step,"
    " otherwise every repeat would fire at the same moment"
)


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook target, or None if it can."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL"
    return None


# An escalation that cannot be evaluated (a broken policy, schedule or override) is
# tried again after 10 s, 20 s, 40 s ... up to 5 minutes; others are not held up.
FAILURE_BACKOFF_BASE = timedelta(seconds=10)
FAILURE_BACKOFF_CAP = timedelta(minutes=5)


def failure_backoff(failures: int) -> timedelta:
    """How long to wait after the ``failures``-th failure in a row (1 for the first)."""
    if failures < 1:
        raise ValueError("failures counts failed evaluations and starts at 1")
    doubled: timedelta = FAILURE_BACKOFF_BASE * (2 ** min(failures - 1, 16))
    return min(doubled, FAILURE_BACKOFF_CAP)
