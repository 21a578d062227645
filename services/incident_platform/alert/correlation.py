"""The correlation rule: which incident an alert joins, as plain functions over data.

The rule, as users state it:

* a firing alert whose fingerprint is already firing is a duplicate: counted, nothing created;
* otherwise it joins the open (triggered or acknowledged) incident of its service;
* otherwise it opens a new incident. A resolved incident never takes new alerts;
* a resolved alert closes the firing alert with its fingerprint, or is ignored when there is none;
* when the last firing alert of an incident resolves, the incident resolves too (AUTO_RESOLVE).

The database is the arbiter under concurrency: every decision is carried out by a
statement that re-checks the state it was planned on (see ``alert.ingest``), so a
plan made on a stale read fails and is made again rather than breaking the rule.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from incident_platform.alert.models import AlertStatus, IngestAction
from incident_platform.severity import Severity


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
class CorrelationState:
    """What the database held for a batch's fingerprints and services when it was read."""

    firing_fingerprints: frozenset[str] = frozenset()
    services_with_open_incident: frozenset[str] = frozenset()


def correlate(
    signal: AlertSignal, *, fingerprint_firing: bool, service_has_open_incident: bool
) -> IngestAction:
    """Decide what one alert does, given whether its fingerprint fires and its service is open."""
    if signal.status is AlertStatus.RESOLVED:
        return IngestAction.RESOLVED if fingerprint_firing else IngestAction.IGNORED
    if fingerprint_firing:
        return IngestAction.DEDUPLICATED
    if service_has_open_incident:
        return IngestAction.ATTACHED
    return IngestAction.CREATED


def plan_batch(signals: Sequence[AlertSignal], state: CorrelationState) -> list[IngestAction]:
    """Decide each alert of a batch in order, as if they had arrived one after another.

    Later alerts see the effects of earlier ones: a created incident takes the next
    alert of its service, a created alert makes its repeat a duplicate. Whether a
    resolve also closes its incident depends on alerts outside the batch, so the
    planner does not guess it; the writer re-checks and plans again if it mattered.
    """
    firing = set(state.firing_fingerprints)
    open_services = set(state.services_with_open_incident)
    actions: list[IngestAction] = []
    for signal in signals:
        action = correlate(
            signal,
            fingerprint_firing=signal.fingerprint in firing,
            service_has_open_incident=signal.service in open_services,
        )
        if action in (IngestAction.CREATED, IngestAction.ATTACHED):
            firing.add(signal.fingerprint)
            open_services.add(signal.service)
        elif action is IngestAction.RESOLVED:
            firing.discard(signal.fingerprint)
        actions.append(action)
    return actions
