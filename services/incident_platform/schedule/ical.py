"""RFC 5545 iCalendar export of rendered shifts (a read-only feed for calendar apps).

Every line ends in CRLF and is folded at 75 octets without splitting a UTF-8
character; times are UTC (``...Z``) so no VTIMEZONE is needed; TEXT values escape
backslash, semicolon, comma and newline. A shift's UID is derived from what the shift
is (calendar, layer, user, start, end), so re-exporting an unchanged shift keeps its
UID and calendar apps update events instead of duplicating them.
"""

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from incident_platform.clock import utc_now
from incident_platform.schedule.rules import OVERRIDE_LAYER, Shift

PRODUCT_ID = "-//incident-platform//on-call schedule//EN"
_MAX_LINE_OCTETS = 75


def schedule_to_ics(
    name: str,
    shifts: Iterable[Shift],
    user_names: Mapping[str, str],
    *,
    generated_at: datetime | None = None,
) -> str:
    """A VCALENDAR with one VEVENT per shift; unknown user ids are shown as the id.

    ``generated_at`` (default: now) becomes every event's DTSTAMP.
    """
    stamp = _utc_stamp(generated_at or utc_now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for shift in shifts:
        person = user_names.get(shift.user, shift.user)
        source = "override" if shift.layer == OVERRIDE_LAYER else f"layer {shift.layer}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{shift_uid(name, shift)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc_stamp(shift.start)}",
            f"DTEND:{_utc_stamp(shift.end)}",
            f"SUMMARY:{escape_text(f'On call: {person}')}",
            f"DESCRIPTION:{escape_text(f'{name}, {source}')}",
            "TRANSP:TRANSPARENT",  # being on call does not make anyone busy
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + "\r\n" for line in lines)


def shift_uid(calendar_name: str, shift: Shift) -> str:
    identity = "\x1f".join(
        (calendar_name, shift.layer, shift.user, _utc_stamp(shift.start), _utc_stamp(shift.end))
    )
    return f"{hashlib.sha256(identity.encode()).hexdigest()[:32]}@incident-platform"


def escape_text(value: str) -> str:
    """RFC 5545 section 3.3.11 TEXT escaping; control characters TEXT forbids are dropped."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )
    return escaped.translate(_FORBIDDEN_CONTROLS)


_FORBIDDEN_CONTROLS = dict.fromkeys([*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F])


def fold_line(line: str) -> str:
    """Split into lines of at most 75 octets; continuations start with one space."""
    encoded = line.encode()
    if len(encoded) <= _MAX_LINE_OCTETS:
        return line
    pieces: list[str] = []
    limit = _MAX_LINE_OCTETS
    current = ""
    size = 0
    for character in line:
        width = len(character.encode())
        if size + width > limit:
            pieces.append(current)
            # The leading space of a continuation line counts towards its 75 octets.
            current, size, limit = " ", 1, _MAX_LINE_OCTETS
        current += character
        size += width
    pieces.append(current)
    return "\r\n".join(pieces)


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
