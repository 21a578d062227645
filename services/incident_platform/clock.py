"""The one place that reads the wall clock, so tests and engines can agree on "now"."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
