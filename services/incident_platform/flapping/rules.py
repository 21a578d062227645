"""Flap detection, Nagios's algorithm over an alert's recent states.

* Each fingerprint keeps its last :data:`HISTORY_SIZE` (21) states, firing or resolved.
  A state is recorded when the alert changes state (it fires anew, or resolves); the
  time it spent unchanged in between counts as one unchanged state per
  ``check_interval`` that passed (at most a full history), as Nagios's regular checks
  would have seen it: an alert that fires once a day never flaps, one that fires and
  resolves every few minutes does.
* Before there is a history, Nagios assumes the OK state: a new fingerprint's history
  is 21 resolved states.
* The percent state change weighs the 20 transitions between consecutive states from
  0.75 (the oldest) rising linearly to 1.25 (the newest): transition x (1..20) weighs
  ``0.75 + (x - 1) * 0.5 / 19``; the percentage is the weight of the transitions that are
  changes, times 100 / 20 (Nagios ``flapping.c``).
* At or above the high threshold the alert starts flapping; at or below the low one it
  stops; in between it stays as it was.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

HISTORY_SIZE = 21
LOW_WEIGHT = 0.75
HIGH_WEIGHT = 1.25


class AlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class FlapHistory:
    """A fingerprint's recent states, oldest first (at most 21), and its flap state."""

    states: tuple[AlertState, ...] = ()
    sampled_at: datetime | None = None
    flapping: bool = False
    percent: float = 0.0


@dataclass(frozen=True, slots=True)
class FlapThresholds:
    low: float = 20.0
    high: float = 30.0
    check_interval: timedelta = timedelta(minutes=5)


def full_history(states: Sequence[AlertState]) -> tuple[AlertState, ...]:
    """The 21 states Nagios looks at: missing old ones are the OK (resolved) state."""
    recent = tuple(states[-HISTORY_SIZE:])
    return (AlertState.RESOLVED,) * (HISTORY_SIZE - len(recent)) + recent


def transition_weight(position: int) -> float:
    """The weight of transition ``position`` (1 = oldest .. 20 = newest)."""
    return LOW_WEIGHT + (position - 1) * (HIGH_WEIGHT - LOW_WEIGHT) / (HISTORY_SIZE - 2)


def percent_state_change(states: Sequence[AlertState]) -> float:
    """Nagios's weighted percent state change over the last 21 states."""
    return _percent_of(full_history(states))


# Computed for every alert that changes state (450 times in a batch of new alerts, where
# nearly all histories are the same few): worth remembering, and a full history is hashable.
@lru_cache(maxsize=4096)
def _percent_of(history: tuple[AlertState, ...]) -> float:
    changes = sum(
        transition_weight(position)
        for position in range(1, HISTORY_SIZE)
        if history[position] != history[position - 1]
    )
    return changes * 100.0 / (HISTORY_SIZE - 1)


def next_flapping(percent: float, flapping: bool, thresholds: FlapThresholds) -> bool:
    """The hysteresis rule: start at or above ``high``, stop at or below ``low``."""
    if percent >= thresholds.high:
        return True
    if percent <= thresholds.low:
        return False
    return flapping


def unchanged_checks(sampled_at: datetime | None, now: datetime, interval: timedelta) -> int:
    """How many regular checks would have seen the state unchanged since ``sampled_at``."""
    if sampled_at is None or now <= sampled_at:
        return 0
    return min(HISTORY_SIZE, int((now - sampled_at) / interval))


def _assess(
    states: Sequence[AlertState], at: datetime, flapping: bool, thresholds: FlapThresholds
) -> FlapHistory:
    kept = full_history(states)
    percent = _percent_of(kept)  # already the full 21 states
    return FlapHistory(kept, at, next_flapping(percent, flapping, thresholds), percent)


def record_state(
    history: FlapHistory, state: AlertState, now: datetime, thresholds: FlapThresholds
) -> FlapHistory:
    """The history after the alert changed to ``state`` at ``now``."""
    previous = full_history(history.states)
    quiet = unchanged_checks(history.sampled_at, now, thresholds.check_interval)
    states = previous + (previous[-1],) * quiet + (state,)
    return _assess(states, now, history.flapping, thresholds)


def record_quiet(history: FlapHistory, now: datetime, thresholds: FlapThresholds) -> FlapHistory:
    """The history after the time since its last state passed with no change: the checks
    that came due saw the same state. Unchanged when no check came due."""
    quiet = unchanged_checks(history.sampled_at, now, thresholds.check_interval)
    if quiet == 0 or history.sampled_at is None:
        return history
    previous = full_history(history.states)
    at = history.sampled_at + quiet * thresholds.check_interval
    return _assess(previous + (previous[-1],) * quiet, at, history.flapping, thresholds)
