import pytest

from incident_platform.incident.lifecycle import (
    IllegalTransition,
    IncidentStatus,
    Transition,
    next_status,
)

T, A, R = IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED


@pytest.mark.parametrize(
    ("current", "transition", "expected"),
    [
        (T, Transition.ACKNOWLEDGE, A),
        (T, Transition.RESOLVE, R),
        (A, Transition.RESOLVE, R),
        (R, Transition.REOPEN, T),
    ],
)
def test_legal_transitions(
    current: IncidentStatus, transition: Transition, expected: IncidentStatus
) -> None:
    assert next_status(current, transition) is expected


@pytest.mark.parametrize(
    ("current", "transition"),
    [
        (A, Transition.ACKNOWLEDGE),
        (R, Transition.ACKNOWLEDGE),
        (R, Transition.RESOLVE),
        (T, Transition.REOPEN),
        (A, Transition.REOPEN),
    ],
)
def test_illegal_transitions_name_the_current_status(
    current: IncidentStatus, transition: Transition
) -> None:
    with pytest.raises(IllegalTransition) as raised:
        next_status(current, transition)
    assert raised.value.current is current
    assert current.value in str(raised.value)
