"""The settings: read from the environment, database URLs switched to psycopg 3, and the
checks that refuse a configuration before a service starts with it."""

from typing import Any

import pytest
from pydantic import ValidationError

from incident_platform.settings import Settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db:5432/app", "postgresql+psycopg://u:p@db:5432/app"),
        ("postgres://u@db/app", "postgresql+psycopg://u@db/app"),
        ("postgresql+psycopg://u@db/app", "postgresql+psycopg://u@db/app"),
        # A Unix socket given the libpq way (empty host, ?host=dir), as the embedded
        # PostgreSQL hands it out: the empty host becomes localhost, the socket stays.
        (
            "postgresql://postgres:@/postgres?host=/tmp/pg",
            "postgresql+psycopg://postgres@localhost/postgres?host=/tmp/pg",
        ),
        (
            "postgresql://postgres@/postgres?host=/tmp/pg",
            "postgresql+psycopg://postgres@localhost/postgres?host=/tmp/pg",
        ),
    ],
)
def test_database_urls_use_the_psycopg_3_driver(given: str, used: str) -> None:
    assert str(Settings(database_url=given).database_url) == used


def test_a_database_url_of_another_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="database_url"):
        Settings(database_url="mysql://u@db/app")


def test_the_environment_is_read_and_unknown_variables_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://env@db/app")
    monkeypatch.setenv("RUN_ENGINE", "false")
    monkeypatch.setenv("PLATFORM_ADMIN_TOKEN", "s3cret")
    monkeypatch.setenv("SOMETHING_ELSE_ENTIRELY", "x")

    settings = Settings()

    assert str(settings.database_url) == "postgresql+psycopg://env@db/app"
    assert settings.run_engine is False
    assert settings.platform_admin_token is not None
    assert settings.platform_admin_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings), "secrets stay out of logs"


def test_flap_thresholds_must_leave_a_band_between_them() -> None:
    assert Settings(flap_low_threshold=10, flap_high_threshold=10.5).flap_low_threshold == 10
    for low, high in [(30, 30), (40, 30)]:
        with pytest.raises(ValidationError, match="flap_low_threshold: must be below"):
            Settings(flap_low_threshold=low, flap_high_threshold=high)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("db_pool_size", 0),
        ("db_pool_timeout_seconds", 0),
        # More than a minute of waiting for a pool slot would hang requests, not refuse them.
        ("db_pool_timeout_seconds", 31),
        ("retry_after_seconds", 0),
        ("max_body_bytes", 1023),
        ("ack_link_ttl_seconds", 59),
        ("ack_link_ttl_seconds", 7 * 86400 + 1),
        ("engine_interval_seconds", 0),
        ("notification_max_attempts", 0),
        ("smtp_port", 65536),
        ("events_notify_interval_seconds", -1),
    ],
)
def test_out_of_range_values_are_refused_by_name(name: str, value: float) -> None:
    values: dict[str, Any] = {name: value}
    with pytest.raises(ValidationError, match=name):
        Settings(**values)


def test_defaults_are_a_working_local_setup() -> None:
    settings = Settings()
    assert settings.flap_low_threshold < settings.flap_high_threshold
    assert settings.db_pool_timeout_seconds < settings.notification_lease_seconds
    assert settings.public_url.host == "127.0.0.1"
