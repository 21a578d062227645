"""Fixtures for delivery tests: real HTTP and SMTP receivers, the database, settings."""

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from incident_platform.db import make_engine
from incident_platform.settings import Settings
from notification.receivers import HttpReceiver, MakeSettings, Outbox, SmtpReceiver

ACK_KEY = "test-ack-signing-key-0123456789abcdef"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def make_settings(database_url: str, smtp: SmtpReceiver) -> MakeSettings:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "ack_signing_key": SecretStr(ACK_KEY),
            "oncall_public_url": "https://oncall.example.test",
            "public_url": "https://incidents.example.test/",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_from": "pager@example.test",
            "notification_timeout_seconds": 5.0,
            "notification_max_attempts": 4,
            "notification_concurrency": 8,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(make_settings: MakeSettings) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(Settings(database_url=database_url))
    yield engine
    engine.dispose()


@pytest.fixture
def outbox(database_url: str) -> Outbox:
    """An empty outbox (and no incidents) for each test."""
    box = Outbox(database_url)
    box.empty()
    return box
