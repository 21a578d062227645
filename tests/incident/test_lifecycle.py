import pytest

from incident_platform.incident.lifecycle import (
    OPEN_STATUSES,
    IllegalTransition,
    IncidentStatus,
    Transition,
    closes_alerts,
    is_open,
    is_repeated,
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


@pytest.mark.parametrize(
    ("current", "transition", "repeated"),
    [
        (A, Transition.ACKNOWLEDGE, True),
        (R, Transition.RESOLVE, True),
        (T, Transition.REOPEN, True),
        (R, Transition.ACKNOWLEDGE, False),
        (A, Transition.REOPEN, False),
    ],
)
def test_a_refusal_says_whether_the_transition_was_a_repeat(
    current: IncidentStatus, transition: Transition, repeated: bool
) -> None:
    assert is_repeated(transition, current) is repeated
    with pytest.raises(IllegalTransition) as raised:
        next_status(current, transition)
    assert raised.value.repeated is repeated


@pytest.mark.parametrize(
    ("current", "transition"),
    [(T, Transition.ACKNOWLEDGE), (T, Transition.RESOLVE), (R, Transition.REOPEN)],
)
def test_a_legal_transition_is_never_a_repeat(
    current: IncidentStatus, transition: Transition
) -> None:
    assert not is_repeated(transition, current)


def test_triggered_and_acknowledged_incidents_are_open() -> None:
    assert set(OPEN_STATUSES) == {T, A}
    assert [status for status in IncidentStatus if is_open(status)] == [T, A]


def test_only_resolving_closes_the_alerts() -> None:
    assert [t for t in Transition if closes_alerts(t)] == [Transition.RESOLVE]
