"""The incident lifecycle rules, as plain functions over data.

    triggered --acknowledge--> acknowledged --resolve--> resolved
    triggered --resolve------> resolved --reopen--> triggered

* Legal transitions (:func:`next_status`): anything else raises :class:`IllegalTransition`.
* Open statuses (:data:`OPEN_STATUSES`): an incident takes alerts, counts as open and may
  escalate only while triggered or acknowledged.
* Repeated transitions (:func:`is_repeated`): asking for the status an incident already
  has is refused like any illegal transition, so two responders racing on the same
  incident learn that someone else acted, but the refusal says it is a repeat, and every
  caller that wants idempotence (the acknowledge link, PagerDuty's acknowledge event,
  the operator) treats exactly those refusals as done.
* Resolving closes the incident's alerts (:func:`closes_alerts`).
"""

from enum import StrEnum


class IncidentStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


OPEN_STATUSES: tuple[IncidentStatus, ...] = (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED)
"""The open-statuses rule: an incident in one of these is open (one per service)."""


class Transition(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    REOPEN = "reopen"


_LEGAL: dict[Transition, frozenset[IncidentStatus]] = {
    Transition.ACKNOWLEDGE: frozenset({IncidentStatus.TRIGGERED}),
    Transition.RESOLVE: frozenset({IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED}),
    Transition.REOPEN: frozenset({IncidentStatus.RESOLVED}),
}

_TARGET: dict[Transition, IncidentStatus] = {
    Transition.ACKNOWLEDGE: IncidentStatus.ACKNOWLEDGED,
    Transition.RESOLVE: IncidentStatus.RESOLVED,
    Transition.REOPEN: IncidentStatus.TRIGGERED,
}


def is_open(status: IncidentStatus) -> bool:
    """The open-statuses rule for one incident: see :data:`OPEN_STATUSES`."""
    return status in OPEN_STATUSES


def is_repeated(transition: Transition, current: IncidentStatus) -> bool:
    """The repeated-transition rule: ``transition`` asks for the status ``current`` already is.

    Acknowledging an acknowledged incident, resolving a resolved one or reopening a
    triggered one changes nothing; whoever asked wanted what is already the case.
    """
    return _TARGET[transition] is current


class IllegalTransition(Exception):
    def __init__(self, transition: Transition, current: IncidentStatus) -> None:
        super().__init__(f"cannot {transition.value} an incident that is {current.value}")
        self.transition = transition
        self.current = current

    @property
    def repeated(self) -> bool:
        """Refused only because the incident already is where the transition leads."""
        return is_repeated(self.transition, self.current)


def next_status(current: IncidentStatus, transition: Transition) -> IncidentStatus:
    """The legal-transition rule: the status after ``transition``, or :class:`IllegalTransition`."""
    if current not in _LEGAL[transition]:
        raise IllegalTransition(transition, current)
    return _TARGET[transition]


def closes_alerts(transition: Transition) -> bool:
    """The resolve-closes-alerts rule: resolving an incident resolves its firing alerts.

    So their next firing opens a new incident instead of being a duplicate of an alert
    that belongs to a closed one. Auto-resolve needs no such step: it happens because
    the last firing alert resolved.
    """
    return transition is Transition.RESOLVE
