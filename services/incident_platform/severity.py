"""Severity levels shared by alerts and incidents, ordered from least to most urgent."""

from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.INFO,
    Severity.WARNING,
    Severity.HIGH,
    Severity.CRITICAL,
)
"""The severity-order rule: least to most urgent; an incident takes its worst alert's."""

_RANK = {severity: rank for rank, severity in enumerate(SEVERITY_ORDER)}


def highest(*severities: Severity) -> Severity:
    """The severity-order rule applied: the most urgent of ``severities``."""
    return max(severities, key=lambda severity: severity.rank)
