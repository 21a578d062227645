"""Which incident transitions are legal, as a plain function.

    triggered --acknowledge--> acknowledged --resolve--> resolved
    triggered --resolve------> resolved --reopen--> triggered

Acknowledging twice or resolving twice is refused rather than silently accepted,
so two responders racing on the same incident learn that someone else acted.
"""

from enum import StrEnum

from incident_platform.incident.models import IncidentStatus


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


class IllegalTransition(Exception):
    def __init__(self, transition: Transition, current: IncidentStatus) -> None:
        super().__init__(f"cannot {transition.value} an incident that is {current.value}")
        self.transition = transition
        self.current = current


def next_status(current: IncidentStatus, transition: Transition) -> IncidentStatus:
    """The status after ``transition``, or :class:`IllegalTransition` if it may not happen."""
    if current not in _LEGAL[transition]:
        raise IllegalTransition(transition, current)
    return _TARGET[transition]
