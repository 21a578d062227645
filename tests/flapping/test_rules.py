"""Nagios's flap detection: worked examples from its algorithm (base/flapping.c) and
properties of the weighted percent state change."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_platform.flapping.rules import (
    HISTORY_SIZE,
    AlertState,
    FlapHistory,
    FlapThresholds,
    full_history,
    next_flapping,
    percent_state_change,
    record_quiet,
    record_state,
    transition_weight,
)

F, R = AlertState.FIRING, AlertState.RESOLVED
T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
NAGIOS = FlapThresholds(low=20.0, high=30.0, check_interval=timedelta(minutes=5))

states = st.lists(st.sampled_from([F, R]), max_size=HISTORY_SIZE)


def test_weights_rise_linearly_from_three_quarters_to_five_quarters() -> None:
    assert transition_weight(1) == pytest.approx(0.75)
    assert transition_weight(20) == pytest.approx(1.25)
    steps = [transition_weight(x + 1) - transition_weight(x) for x in range(1, 20)]
    assert steps == pytest.approx([0.5 / 19] * 19)


def test_worked_examples_against_nagios_formula() -> None:
    # curved_changes += (x - 1) * (1.25 - 0.75) / 19 + 0.75 for each changed state x of
    # 1..20 (0 is the oldest), percent = curved_changes * 100 / 20.
    assert percent_state_change([R] * 21) == 0.0
    assert percent_state_change([F, R] * 10 + [F]) == pytest.approx(100.0)
    assert percent_state_change([R] * 20 + [F]) == pytest.approx(6.25)  # newest: 1.25
    assert percent_state_change([F] + [R] * 20) == pytest.approx(3.75)  # oldest: 0.75
    # Changes at states 3, 4, 5, 9, 12, 16 and 19: 7 * 0.75 + (2+3+4+8+11+15+18) / 38.
    history, state = [], R
    for x in range(21):
        if x in (3, 4, 5, 9, 12, 16, 19):
            state = F if state is R else R
        history.append(state)
    assert percent_state_change(history) == pytest.approx(34.276, abs=1e-3)


def test_a_missing_history_is_the_ok_state() -> None:
    assert full_history([F]) == (R,) * 20 + (F,)
    assert percent_state_change([]) == 0.0


def test_alternating_alert_flaps_at_its_sixth_state() -> None:
    """From a fresh history, every state a change: 6.25, 12.37, 18.36, 24.21, 29.93 %
    (just below 30), then 35.53 % at the sixth state: flapping."""
    history = FlapHistory()
    percents = []
    for n in range(12):
        history = record_state(history, F if n % 2 == 0 else R, T0 + timedelta(seconds=n), NAGIOS)
        percents.append(round(history.percent, 2))
        assert history.flapping is (n >= 5)
    assert percents[:6] == [6.25, 12.37, 18.36, 24.21, 29.93, 35.53]


def test_hysteresis_between_the_thresholds_keeps_the_flap_state() -> None:
    assert next_flapping(30.0, False, NAGIOS) is True
    assert next_flapping(29.99, False, NAGIOS) is False
    assert next_flapping(25.0, True, NAGIOS) is True
    assert next_flapping(20.0, True, NAGIOS) is False
    assert next_flapping(20.01, True, NAGIOS) is True


def test_time_between_changes_counts_as_unchanged_checks() -> None:
    """An alert that fires and resolves once a day never flaps."""
    history = FlapHistory()
    for n in range(40):
        at = T0 + timedelta(days=n)
        history = record_state(history, F if n % 2 == 0 else R, at, NAGIOS)
        assert not history.flapping
        assert history.percent == pytest.approx(6.25)


def test_a_quiet_flapping_alert_stops_after_enough_checks() -> None:
    history = FlapHistory()
    for n in range(21):
        history = record_state(history, F if n % 2 == 0 else R, T0 + timedelta(seconds=n), NAGIOS)
    assert history.flapping
    assert history.sampled_at is not None
    assert record_quiet(history, history.sampled_at + timedelta(minutes=4), NAGIOS) == history
    # After 15 checks the changes left at the five oldest transitions weigh
    # 5 * 0.75 + 10 / 38 = 4.013 of 20: 20.07 %, still flapping; after 16, four weigh
    # 3 + 6 / 38 = 3.158: 15.79 %, stopped.
    still = record_quiet(history, history.sampled_at + timedelta(minutes=5 * 15), NAGIOS)
    assert still.flapping
    assert still.percent == pytest.approx(20.066, abs=1e-3)
    stopped = record_quiet(history, history.sampled_at + timedelta(minutes=5 * 16), NAGIOS)
    assert not stopped.flapping
    assert stopped.percent == pytest.approx(15.789, abs=1e-3)
    assert stopped.sampled_at == history.sampled_at + timedelta(minutes=80)


@given(states)
def test_percent_is_between_0_and_100(history: list[AlertState]) -> None:
    assert 0.0 <= percent_state_change(history) <= 100.0 + 1e-9


@given(st.integers(min_value=1, max_value=18))
def test_a_newer_change_weighs_more_than_an_older_one(position: int) -> None:
    """Moving one isolated change one state later never lowers the percentage."""
    older = [R] * 21
    older[position] = F
    newer = [R] * 21
    newer[position + 1] = F
    # Two changes each (into and out of the firing state), the newer pair later.
    assert percent_state_change(newer) > percent_state_change(older)


@given(states, st.sampled_from([F, R]))
def test_repeating_the_newest_state_never_raises_the_percentage_of_a_full_history(
    history: list[AlertState], extra: AlertState
) -> None:
    full = list(full_history(history))
    same = [*full[1:], full[-1]]
    assert percent_state_change(same) <= percent_state_change(full) + 1e-9


@given(st.lists(st.sampled_from([F, R]), max_size=60), st.booleans())
def test_flap_state_follows_the_thresholds(sequence: list[AlertState], start: bool) -> None:
    history = FlapHistory(flapping=start)
    for n, state in enumerate(sequence):
        previous = history.flapping
        history = record_state(history, state, T0 + timedelta(seconds=n), NAGIOS)
        assert len(history.states) == HISTORY_SIZE
        if history.percent >= NAGIOS.high:
            assert history.flapping
        elif history.percent <= NAGIOS.low:
            assert not history.flapping
        else:
            assert history.flapping is previous
