"""The one time-zone check, shared by schedules and users."""

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Present on disk but not zones anyone should schedule in: the host's own zone
# (a guess by another name) and tzdata's "zone not configured" placeholder.
_NOT_SCHEDULING_ZONES = frozenset({"localtime", "posixrules", "Factory"})


def iana_zone(name: str) -> ZoneInfo:
    """Time-zone rule: an IANA zone name such as ``"Europe/Paris"``; nothing local or
    guessed. Raises ``ValueError`` saying why otherwise."""
    if name not in _iana_zone_names():
        raise ValueError(f"unknown time zone {name!r}, expected an IANA name like Europe/Paris")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


@cache
def _iana_zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_SCHEDULING_ZONES
