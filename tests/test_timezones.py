"""The time-zone rule: IANA names only; the host's own zone and placeholders are refused."""

from zoneinfo import ZoneInfo

import pytest

from incident_platform.timezones import iana_zone


@pytest.mark.parametrize("name", ["Europe/Paris", "America/New_York", "UTC", "Pacific/Apia"])
def test_iana_names_give_their_zone(name: str) -> None:
    assert iana_zone(name) == ZoneInfo(name)


@pytest.mark.parametrize(
    "name",
    ["localtime", "posixrules", "Factory", "Europe/Pariss", "europe/paris", "", "../etc/passwd"],
)
def test_anything_else_is_refused_saying_what_is_expected(name: str) -> None:
    with pytest.raises(ValueError, match=r"unknown time zone .*expected an IANA name"):
        iana_zone(name)
