"""Input checks: the parsers' messages naming the field (the HTTP models' 422s: test_models)."""

from datetime import time

import pytest

from incident_platform.schedule import FieldError, Weekday
from incident_platform.schedule.validation import parse_clock_time, parse_day, parse_weekday


@pytest.mark.parametrize("text", ["9:00", "24:00", "09:60", "0900", "09:00:00", " 09:00", ""])
def test_bad_clock_times_are_refused(text: str) -> None:
    with pytest.raises(FieldError, match=r'^handoff_time: expected a time of day as "HH:MM"'):
        parse_clock_time(text, "handoff_time")


def test_day_names() -> None:
    assert parse_clock_time("23:59", "t") == time(23, 59)
    assert parse_weekday("sunday", "handoff_day") is Weekday.SUNDAY
    assert parse_day("mon", "days[0]") is Weekday.MONDAY
    with pytest.raises(FieldError, match=r"^handoff_day: unknown weekday 'funday'"):
        parse_weekday("funday", "handoff_day")
    with pytest.raises(FieldError, match=r"^days\[2\]: unknown day 'monday'"):
        parse_day("monday", "days[2]")
