"""The engine loop's own metrics: tick duration always, last-tick time on success only."""

import time

import pytest

from incident_platform.metrics import engine_metrics, timed_engine_tick


def _tick_count() -> float:
    for family in engine_metrics()[1].collect():
        for sample in family.samples:
            if sample.name.endswith("_count"):
                return sample.value
    raise AssertionError("no _count sample")


def _last_tick() -> float:
    (family,) = engine_metrics()[0].collect()
    return float(family.samples[0].value)


def test_a_successful_tick_sets_the_last_tick_time_and_is_timed() -> None:
    before_count = _tick_count()
    started = time.time()
    assert timed_engine_tick(lambda: "report")() == "report"
    assert _last_tick() >= started
    assert _tick_count() == before_count + 1


def test_a_failed_tick_is_timed_but_does_not_count_as_progress() -> None:
    timed_engine_tick(lambda: None)()
    last = _last_tick()
    before_count = _tick_count()

    def broken() -> None:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        timed_engine_tick(broken)()
    assert _last_tick() == last
    assert _tick_count() == before_count + 1
