"""The iCalendar feed, parsed back with a strict little RFC 5545 reader."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_platform.schedule import OVERRIDE_LAYER, Shift, schedule_to_ics
from incident_platform.schedule.ical import escape_text, fold_line

STAMP = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
SHIFTS = [
    Shift("u1", "Primary, EU; nights", START, START + timedelta(hours=23)),
    Shift("u2", OVERRIDE_LAYER, START + timedelta(hours=23), START + timedelta(hours=30)),
]
NAMES = {"u1": "Zoë O'Brien, SRE; \\ lead\nextra line", "u2": "李小龍 " * 20}


def physical_lines(ics: str) -> list[str]:
    assert ics.endswith("\r\n")
    lines = ics[:-2].split("\r\n")
    for line in lines:
        assert "\n" not in line, "bare line feed"
        assert "\r" not in line, "bare carriage return"
        assert len(line.encode()) <= 75, f"unfolded line: {line!r}"
    return lines


def unfold(lines: list[str]) -> list[str]:
    logical: list[str] = []
    for line in lines:
        if line.startswith((" ", "\t")):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def unescape(value: str) -> str:
    out, chars = "", iter(value)
    for char in chars:
        if char != "\\":
            assert char not in ",;", f"unescaped {char!r} in {value!r}"
            out += char
            continue
        escaped = next(chars)
        out += {"n": "\n", "N": "\n"}.get(escaped, escaped)
        assert escaped in "nN\\,;", f"bad escape \\{escaped}"
    return out


def parse(ics: str) -> list[dict[str, str]]:
    """The events, each as {property: value}; checks the calendar's own structure."""
    lines = unfold(physical_lines(ics))
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    calendar: dict[str, str] = {}
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines[1:-1]:
        name, _, value = line.partition(":")
        if (name, value) == ("BEGIN", "VEVENT"):
            assert current is None
            current = {}
        elif (name, value) == ("END", "VEVENT"):
            assert current is not None
            events.append(current)
            current = None
        else:
            target = calendar if current is None else current
            assert name not in target, f"duplicate {name}"
            target[name] = value
    assert current is None
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    return events


def test_calendar_structure_and_event_fields() -> None:
    ics = schedule_to_ics("Payments, on-call", SHIFTS, NAMES, generated_at=STAMP)

    events = parse(ics)

    assert len(events) == 2
    for event, shift in zip(events, SHIFTS, strict=True):
        assert set(event) >= {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"}
        assert event["DTSTAMP"] == "20260101T120000Z"
        assert event["DTSTART"] == shift.start.strftime("%Y%m%dT%H%M%SZ")
        assert event["DTEND"] == shift.end.strftime("%Y%m%dT%H%M%SZ")
    assert events[0]["DTSTART"] == "20260328T080000Z"
    assert events[0]["DTEND"] == "20260329T070000Z"


def test_text_is_escaped_and_survives_a_round_trip() -> None:
    ics = schedule_to_ics("Payments, on-call; EU", SHIFTS, NAMES, generated_at=STAMP)

    events = parse(ics)

    assert unescape(events[0]["SUMMARY"]) == f"On call: {NAMES['u1']}"
    assert unescape(events[0]["DESCRIPTION"]) == "Payments, on-call; EU, layer Primary, EU; nights"
    assert unescape(events[1]["SUMMARY"]) == f"On call: {NAMES['u2']}"  # folded, multi-byte
    assert unescape(events[1]["DESCRIPTION"]).endswith("override")


def test_long_lines_fold_without_splitting_characters() -> None:
    ics = schedule_to_ics("x", SHIFTS[1:], NAMES, generated_at=STAMP)

    lines = physical_lines(ics)

    # A 75-octet line holds at most 25 of these 3-octet characters: it must fold,
    # and every piece must still be whole characters (the line lengths are checked above).
    assert any(line.startswith(" 李") or line.startswith(" 小") for line in lines)
    assert sum(line.startswith(" ") for line in lines) == 2  # 217 octets: 75 + 74 + 68


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_folds_and_escapes_reversibly(text: str) -> None:
    line = f"SUMMARY:{escape_text(text)}"

    folded = fold_line(line).split("\r\n")

    assert all(len(piece.encode()) <= 75 for piece in folded)
    assert unfold(folded) == [line]
    newlines = text.replace("\r\n", "\n").replace("\r", "\n")
    controls = {chr(c) for c in [*range(0x20), 0x7F]} - {"\t", "\n"}
    assert unescape(escape_text(text)) == "".join(c for c in newlines if c not in controls)
    assert not controls & set(escape_text(text))


def test_uids_are_stable_and_distinct() -> None:
    first = parse(schedule_to_ics("cal", SHIFTS, NAMES, generated_at=STAMP))
    again = parse(schedule_to_ics("cal", SHIFTS, {}, generated_at=STAMP + timedelta(days=1)))
    other_calendar = parse(schedule_to_ics("other", SHIFTS, NAMES, generated_at=STAMP))

    assert [e["UID"] for e in first] == [e["UID"] for e in again]
    assert len({e["UID"] for e in first}) == 2
    assert {e["UID"] for e in first}.isdisjoint(e["UID"] for e in other_calendar)


def test_unknown_users_are_shown_by_id_and_empty_calendars_are_valid() -> None:
    events = parse(schedule_to_ics("cal", SHIFTS[:1], {}, generated_at=STAMP))
    assert unescape(events[0]["SUMMARY"]) == "On call: u1"
    assert parse(schedule_to_ics("cal", [], {}, generated_at=STAMP)) == []


@pytest.mark.parametrize("zone_hours", [0, 2, -7])
def test_event_times_are_utc_whatever_the_shift_zone(zone_hours: int) -> None:
    local = START.astimezone(timezone(timedelta(hours=zone_hours)))
    shift = Shift("u1", "L", local, local + timedelta(hours=1))

    (event,) = parse(schedule_to_ics("cal", [shift], {}, generated_at=STAMP))

    assert (event["DTSTART"], event["DTEND"]) == ("20260328T080000Z", "20260328T090000Z")
