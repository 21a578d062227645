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


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


def highest(*severities: Severity) -> Severity:
    return max(severities, key=lambda severity: severity.rank)
