import pytest

from incident_platform.severity import SEVERITY_ORDER, Severity, highest


def test_every_severity_has_one_place_in_the_order() -> None:
    assert sorted(SEVERITY_ORDER) == sorted(Severity)
    assert [severity.rank for severity in SEVERITY_ORDER] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("severities", "worst"),
    [
        ((Severity.INFO, Severity.WARNING), Severity.WARNING),
        ((Severity.CRITICAL, Severity.HIGH), Severity.CRITICAL),
        ((Severity.HIGH, Severity.INFO, Severity.WARNING), Severity.HIGH),
        ((Severity.INFO,), Severity.INFO),
    ],
)
def test_highest_is_the_most_urgent(severities: tuple[Severity, ...], worst: Severity) -> None:
    assert highest(*severities) is worst
