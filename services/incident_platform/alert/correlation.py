"""The correlation rule: which incident an alert joins, as plain functions over data.

The rule, as users state it:

* a firing alert whose fingerprint is already firing is a duplicate: counted, nothing created;
* otherwise, if an active silence matches its labels (``silence.rules``), it is stored
  muted (SILENCED): it opens or joins no incident until the silence ends, and is then
  decided again as if it had just arrived (``alert.ingest.release_silenced``);
* otherwise, if its fingerprint is flapping (``flapping.rules``) and the incident its
  last alert was in is still open, it re-joins that incident;
* otherwise it joins the open (triggered or acknowledged) incident of its group: the
  first grouping rule that matches it decides the group, else its service does
  (``grouping.rules``). An incident a rule's time window closed on takes no more;
* otherwise it opens a new incident. A resolved incident never takes new alerts;
* a resolved alert closes the firing alert with its fingerprint, or is ignored when there is none;
* when the last firing alert of an open incident resolves, the incident resolves too
  (:func:`auto_resolves`, when the platform's ``auto_resolve`` setting is on), unless an
  alert of it is flapping: it then resolves when the flapping stops.

Every state change (an alert firing anew, or resolving) is recorded in its fingerprint's
flap history, which decides whether it flaps.

A batch (an Alertmanager notification, say) is decided as rounds of distinct
fingerprints; within a round firing alerts come before resolutions.

The database is the arbiter under concurrency: every decision is carried out by a
statement that re-checks the state it was planned on (see ``alert.ingest``), so a
plan made on a stale read fails and is made again rather than breaking the rule.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from incident_platform.flapping.rules import AlertState, FlapHistory, FlapThresholds, record_state
from incident_platform.grouping.rules import Group, GroupingRule, group_of, window_closed
from incident_platform.incident.lifecycle import IncidentStatus, is_open
from incident_platform.severity import Severity, highest
from incident_platform.silence.rules import (
    SilenceRule,
    active_silences,
    alert_labels,
    first_matching,
)


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class IngestAction(StrEnum):
    CREATED = "created"
    ATTACHED = "attached"
    DEDUPLICATED = "deduplicated"
    RESOLVED = "resolved"
    IGNORED = "ignored"
    # Stored, muted by an active silence: no incident, nobody paged, until the silence ends.
    SILENCED = "silenced"
    # Not stored: the alert was invalid (only in batches, where the others still count).
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class AlertSignal:
    """One alert as any sender described it, normalised."""

    fingerprint: str
    service: str
    summary: str
    severity: Severity = Severity.WARNING
    status: AlertStatus = AlertStatus.FIRING
    source: str | None = None
    description: str | None = None
    labels: Mapping[str, Any] = field(default_factory=dict)
    annotations: Mapping[str, Any] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    integration_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class FiringAlert:
    alert_id: int
    incident_id: int | None  # None while muted by a silence


@dataclass(frozen=True, slots=True)
class OpenIncident:
    incident_id: int
    severity: Severity
    newest_alert_at: datetime | None = None  # read only for groups with a time window


@dataclass(frozen=True, slots=True)
class FlapRecord:
    """A fingerprint's flap history, and the incident its latest alert is in."""

    history: FlapHistory
    incident_id: int | None = None
    incident_open: bool = False


@dataclass(frozen=True, slots=True)
class CorrelationState:
    """What the database held for a round's fingerprints and groups when it was read."""

    firing: Mapping[str, FiringAlert] = field(default_factory=dict)
    open_incidents: Mapping[str, OpenIncident] = field(default_factory=dict)  # by group key
    silences: Sequence[SilenceRule] = ()
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    grouping_rules: Sequence[GroupingRule] = ()  # in the order they are tried
    flaps: Mapping[str, FlapRecord] = field(default_factory=dict)
    flap_thresholds: FlapThresholds = field(default_factory=FlapThresholds)


def labels_of(signal: AlertSignal) -> dict[str, str]:
    return alert_labels(signal.labels, service=signal.service, severity=signal.severity.value)


def group_for(signal: AlertSignal, rules: Sequence[GroupingRule]) -> Group:
    """The group ``signal`` belongs to (``grouping.rules.group_of`` on its labels)."""
    if not rules:
        return group_of({}, signal.service, ())
    return group_of(labels_of(signal), signal.service, rules)


def silence_muting(signal: AlertSignal, active: Sequence[SilenceRule]) -> UUID | None:
    """Which of the ``active`` silences mutes ``signal``, if any."""
    if not active:
        return None
    return first_matching(labels_of(signal), active)


def correlate(
    signal: AlertSignal,
    *,
    fingerprint_firing: bool,
    service_has_open_incident: bool,
    silenced: bool = False,
) -> IngestAction:
    """Decide what one alert does, given whether its fingerprint fires, whether an active
    silence matches it and whether its group (by default its service) has an open
    incident that takes alerts."""
    if signal.status is AlertStatus.RESOLVED:
        return IngestAction.RESOLVED if fingerprint_firing else IngestAction.IGNORED
    if fingerprint_firing:
        return IngestAction.DEDUPLICATED
    if silenced:
        return IngestAction.SILENCED
    if service_has_open_incident:
        return IngestAction.ATTACHED
    return IngestAction.CREATED


def split_rounds(signals: Sequence[AlertSignal]) -> list[list[int]]:
    """Positions of a batch grouped into rounds in which no fingerprint appears twice.

    Round k holds the k-th occurrence of each fingerprint, so one fingerprint's
    events keep their order. A typical webhook batch is a single round.
    """
    rounds: list[list[int]] = []
    seen: dict[str, int] = {}
    for position, signal in enumerate(signals):
        occurrence = seen.get(signal.fingerprint, 0)
        seen[signal.fingerprint] = occurrence + 1
        if occurrence == len(rounds):
            rounds.append([])
        rounds[occurrence].append(position)
    return rounds


@dataclass(frozen=True, slots=True)
class NewIncident:
    title: str
    severity: Severity
    alert_count: int
    service: str
    grouping_rule: str | None = None


@dataclass(frozen=True, slots=True)
class FlapChange:
    """A fingerprint's flap history before and after this round's state change."""

    before: FlapHistory
    history: FlapHistory
    started: bool
    stopped: bool
    incident_id: int | None  # None: the incident its new alert opens (or none, muted)


@dataclass(frozen=True, slots=True)
class RoundPlan:
    """What a round does: one action per alert, and the incidents it opens or grows."""

    actions: list[IngestAction]
    new_incidents: dict[str, NewIncident]  # by group key
    # Existing open incidents gaining alerts: how many, and the worst new severity.
    grown_incidents: dict[int, tuple[int, Severity]]
    openers: frozenset[str]  # fingerprints of the alerts that open a new incident
    muted_by: dict[str, UUID] = field(default_factory=dict)  # silenced fingerprints' silence
    # Where each new (created or attached) alert goes: a group key, or an open incident.
    targets: dict[str, str] = field(default_factory=dict)  # by fingerprint
    joined: dict[str, int] = field(default_factory=dict)  # target -> existing incident id
    # Open incidents a time window closed on: id -> the alerts newer than this keep it open.
    closed_windows: dict[int, datetime] = field(default_factory=dict)
    flaps: dict[str, FlapChange] = field(default_factory=dict)  # by fingerprint
    # Incidents a flapping alert's resolution leaves open (no auto-resolve).
    held_open: frozenset[int] = frozenset()


def incident_target(incident_id: int) -> str:
    """The target of an alert that re-joins a given incident rather than its group's."""
    return f"incident:{incident_id}"


_STATE_OF = {
    IngestAction.CREATED: AlertState.FIRING,
    IngestAction.ATTACHED: AlertState.FIRING,
    IngestAction.SILENCED: AlertState.FIRING,
    IngestAction.RESOLVED: AlertState.RESOLVED,
}


def flap_change(
    signal: AlertSignal,
    action: IngestAction,
    state: CorrelationState,
    incident_id: int | None,
) -> FlapChange | None:
    """The flap rule applied to one alert: a state change joins its fingerprint's history
    (duplicates and ignored resolutions change nothing)."""
    new_state = _STATE_OF.get(action)
    if new_state is None:
        return None
    record = state.flaps.get(signal.fingerprint)
    before = record.history if record is not None else FlapHistory()
    after = record_state(before, new_state, state.now, state.flap_thresholds)
    return FlapChange(
        before=before,
        history=after,
        started=after.flapping and not before.flapping,
        stopped=before.flapping and not after.flapping,
        incident_id=incident_id,
    )


def plan_round(signals: Sequence[AlertSignal], state: CorrelationState) -> RoundPlan:
    """Decide a round of alerts with distinct fingerprints.

    Firing alerts are decided before resolutions: an alert arriving in the same
    batch as the resolution of its group's last alert joins that incident
    instead of opening a second one a moment later. Whether a resolution closes
    its incident depends on alerts outside the round, so the planner does not
    guess it; the writer re-checks it in the database.
    """
    actions: dict[int, IngestAction] = {}
    new_incidents: dict[str, NewIncident] = {}
    grown: dict[int, tuple[int, Severity]] = {}
    openers: set[str] = set()
    muted_by: dict[str, UUID] = {}
    targets: dict[str, str] = {}
    joined: dict[str, int] = {}
    closed_windows: dict[int, datetime] = {}
    flaps: dict[str, FlapChange] = {}
    held_open: set[int] = set()
    active = active_silences(state.silences, state.now)
    firing_first = sorted(
        range(len(signals)), key=lambda i: signals[i].status is AlertStatus.RESOLVED
    )
    for position in firing_first:
        signal = signals[position]
        fingerprint_firing = signal.fingerprint in state.firing
        arriving = signal.status is AlertStatus.FIRING and not fingerprint_firing
        silence = silence_muting(signal, active) if arriving else None
        target, existing, group = (
            _target(signal, state, closed_windows) if arriving else ("", None, None)
        )
        action = correlate(
            signal,
            fingerprint_firing=fingerprint_firing,
            service_has_open_incident=existing is not None or target in new_incidents,
            silenced=silence is not None,
        )
        actions[position] = action
        incident_id: int | None = None
        if action is IngestAction.SILENCED and silence is not None:
            muted_by[signal.fingerprint] = silence
        elif action is IngestAction.CREATED and group is not None:
            new_incidents[target] = NewIncident(
                signal.summary, signal.severity, 1, signal.service, group.rule
            )
            openers.add(signal.fingerprint)
            targets[signal.fingerprint] = target
        elif action is IngestAction.ATTACHED and existing is None:
            opened = new_incidents[target]
            new_incidents[target] = NewIncident(
                opened.title,
                highest(opened.severity, signal.severity),
                opened.alert_count + 1,
                opened.service,
                opened.grouping_rule,
            )
            targets[signal.fingerprint] = target
        elif action is IngestAction.ATTACHED and existing is not None:
            count, worst = grown.get(existing.incident_id, (0, signal.severity))
            grown[existing.incident_id] = (count + 1, highest(worst, signal.severity))
            targets[signal.fingerprint] = target
            joined[target] = incident_id = existing.incident_id
        elif action is IngestAction.RESOLVED:
            incident_id = state.firing[signal.fingerprint].incident_id
        change = flap_change(signal, action, state, incident_id)
        if change is not None:
            flaps[signal.fingerprint] = change
            if action is IngestAction.RESOLVED and change.history.flapping and incident_id:
                held_open.add(incident_id)
    return RoundPlan(
        actions=[actions[position] for position in range(len(signals))],
        new_incidents=new_incidents,
        grown_incidents=grown,
        openers=frozenset(openers),
        muted_by=muted_by,
        targets=targets,
        joined=joined,
        closed_windows=closed_windows,
        flaps=flaps,
        held_open=frozenset(held_open),
    )


def auto_resolves(status: IncidentStatus, *, still_firing: bool, flapping: bool = False) -> bool:
    """The auto-resolve rule: an open incident resolves once none of its alerts fires,
    unless it is flapping (it then resolves when the flapping stops).

    Decided after a round's resolutions are written (``still_firing`` counts alerts
    outside the round too), for the incidents those resolutions belonged to or whose
    alert stopped flapping.
    """
    return is_open(status) and not still_firing and not flapping


@dataclass(frozen=True, slots=True)
class Repeats:
    """A batch with its repeated firing alerts folded into the alert they repeat."""

    kept: list[int]  # positions decided and written, in the batch's order
    repeats: dict[int, int]  # folded position -> the kept position it repeats
    extra: dict[int, int]  # kept position -> how many folded repeats it carries


def fold_repeats(signals: Sequence[AlertSignal]) -> Repeats:
    """The repeat rule: a firing alert whose fingerprint's previous alert in the batch is
    also firing is a duplicate of it, whatever that one's outcome (so it is counted on the
    same stored alert, like any duplicate, without a round of its own).

    A storm of 300 identical alerts coalesced into one batch is then one alert with 300
    occurrences, written by one statement, not 300 rounds.
    """
    kept: list[int] = []
    repeats: dict[int, int] = {}
    extra: dict[int, int] = {}
    firing_head: dict[str, int] = {}  # fingerprint -> kept position of its firing run
    for position, signal in enumerate(signals):
        head = firing_head.get(signal.fingerprint)
        if signal.status is AlertStatus.FIRING and head is not None:
            repeats[position] = head
            extra[head] = extra.get(head, 0) + 1
            continue
        kept.append(position)
        if signal.status is AlertStatus.FIRING:
            firing_head[signal.fingerprint] = position
        else:
            firing_head.pop(signal.fingerprint, None)
    return Repeats(kept, repeats, extra)


def _target(
    signal: AlertSignal, state: CorrelationState, closed_windows: dict[int, datetime]
) -> tuple[str, OpenIncident | None, Group]:
    """Where an arriving alert goes: the target key, the open incident there (None: one
    opens), and its group. Records the open incidents whose time window closes."""
    group = group_for(signal, state.grouping_rules)
    record = state.flaps.get(signal.fingerprint)
    if (
        record is not None
        and record.history.flapping
        and record.incident_open
        and record.incident_id is not None
    ):
        # A flapping alert's return re-joins its incident, whatever its group does.
        return (
            incident_target(record.incident_id),
            OpenIncident(record.incident_id, signal.severity),
            group,
        )
    existing = state.open_incidents.get(group.key)
    if existing is not None and existing.incident_id in closed_windows:
        existing = None
    elif existing is not None and window_closed(group, existing.newest_alert_at, state.now):
        assert group.window_minutes is not None  # window_closed needs one
        closed_windows[existing.incident_id] = state.now - timedelta(minutes=group.window_minutes)
        existing = None
    return group.key, existing, group
