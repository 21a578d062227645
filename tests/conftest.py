"""Fixtures every HTTP test shares: a real PostgreSQL database and the real services."""

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from incident_platform.db import make_engine, migrate
from incident_platform.devtools.devdb import EmbeddedPostgres
from incident_platform.settings import Settings
from support.database import create_database, drop_database, server_url, truncate_all
from support.platform import Platform, create_integration
from support.services import ServiceProcess


@pytest.fixture(scope="session")
def postgres_server() -> str:
    return server_url()


@pytest.fixture(scope="session")
def database_url(postgres_server: str) -> Iterator[str]:
    url = create_database(postgres_server)
    migrate(url)
    yield url
    drop_database(postgres_server, url)


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-logs")


@pytest.fixture(scope="session")
def running_platform(database_url: str, logs_dir: Path) -> Iterator[Platform]:
    token = f"test-admin-{secrets.token_urlsafe(16)}"
    signing_key = secrets.token_urlsafe(32)
    env = {
        "DATABASE_URL": database_url,
        "PLATFORM_ADMIN_TOKEN": token,
        "ACK_SIGNING_KEY": signing_key,
        # Tests drive the escalation engine on a controllable clock, not in the background.
        "RUN_ENGINE": "false",
        # Silences that end on their own are released by the ingestion sweep: quickly here.
        "SILENCE_SWEEP_SECONDS": "0.5",
    }
    # Two workers each, as production runs them: correlation and metrics must hold
    # across processes, not just inside one.
    ingestion = ServiceProcess(
        "incident_platform.entrypoints.alert_ingestion",
        env,
        workers=2,
        log_path=logs_dir / "ingestion.log",
    ).start()
    incidents = ServiceProcess(
        "incident_platform.entrypoints.incident_management",
        env,
        workers=2,
        log_path=logs_dir / "incidents.log",
    ).start()
    oncall = ServiceProcess(
        "incident_platform.entrypoints.oncall", env, workers=2, log_path=logs_dir / "oncall.log"
    ).start()
    services = (ingestion, incidents, oncall)
    try:
        for service in services:
            # Generous: four engineers share two cores, and three services start at once.
            service.wait_until("/readyz", timeout=180)
        yield Platform(database_url, token, ingestion, incidents, oncall, signing_key)
    finally:
        for service in services:
            service.stop()


@pytest.fixture
def platform(running_platform: Platform) -> Platform:
    """The running services over an emptied database."""
    truncate_all(running_platform.database_url)
    return running_platform


@pytest.fixture
def engine(platform: Platform) -> Iterator[Engine]:
    """An engine of the test's own on the emptied session database, for calling stores and
    rules in-process beside the running services."""
    engine = make_engine(Settings(database_url=platform.database_url))
    yield engine
    engine.dispose()


@pytest.fixture
def ingest(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.ingestion.url, timeout=30) as client:
        yield client


@pytest.fixture
def incidents_api(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=platform.incidents.url, timeout=30, headers=platform.admin()
    ) as client:
        yield client


@pytest.fixture
def oncall_api(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.oncall.url, timeout=30, headers=platform.admin()) as client:
        yield client


@pytest.fixture
def generic_key(platform: Platform) -> str:
    return create_integration(platform, "generic")


@pytest.fixture
def generic_auth(generic_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {generic_key}"}


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of this test's own, so stopping it harms no other test."""
    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    migrate(server.url)
    yield server
    server.stop()
