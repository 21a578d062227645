"""The programs the chart runs with `python -c` (charts/incident-platform/files/), for real.

* operator_credentials.py against the real platform services (tests/conftest.py) and the
  stand-in Kubernetes API of conftest.py: it creates the operator's credentials, they work,
  a second run changes nothing, a revoked one is replaced, a conflicting write makes it start
  over without leaking credentials;
* migrate.py against a fresh database of the real PostgreSQL, and against none;
* readyz_check.py (the `helm test` pod) against the real services.
They run exactly as the chart runs them: `python -c <file text>`.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from incident_platform.db import make_engine, schema_status
from incident_platform.settings import Settings
from support.database import create_database, drop_database, server_url
from support.platform import Platform

REPO_ROOT = Path(__file__).resolve().parents[2]
FILES = REPO_ROOT / "charts" / "incident-platform" / "files"
NAMESPACE = "incident-platform"
SECRET = "incident-platform-operator"
SECRET_PATH = f"/api/v1/namespaces/{NAMESPACE}/secrets/{SECRET}"
SA_TOKEN = "service-account-token"


def run_chart_program(
    name: str, env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return subprocess.run(
        [sys.executable, "-c", (FILES / name).read_text(), *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=timeout,
        check=False,
    )


# --- operator_credentials.py ----------------------------------------------------------------------


@pytest.fixture
def operator_secret(fake_kube: Any) -> Any:
    """The stand-in API server holding the empty Secret the chart creates, behind a token."""
    fake_kube.token = SA_TOKEN
    fake_kube.put(
        SECRET_PATH,
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {"name": SECRET, "namespace": NAMESPACE}},
    )  # fmt: skip
    return fake_kube


def credentials_env(platform: Platform, kube: Any, **extra: str) -> dict[str, str]:
    return {
        "ALERT_INGESTION_URL": platform.ingestion.url,
        "INCIDENT_MANAGEMENT_URL": platform.incidents.url,
        "PLATFORM_ADMIN_TOKEN": platform.admin_token,
        "SECRET_NAME": SECRET,
        "SECRET_NAMESPACE": NAMESPACE,
        "INTEGRATION_NAME": "kubernetes-operator",
        "TOKEN_NAME": "kubernetes-operator",
        "WAIT_SECONDS": "30",
        "KUBE_API_SERVER": kube.url,
        "KUBE_API_TOKEN": SA_TOKEN,
        **extra,
    }


def stored(kube: Any) -> dict[str, str]:
    data = kube.objects[SECRET_PATH].get("data") or {}
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def listed(platform: Platform, service: str, path: str) -> dict[str, dict[str, Any]]:
    base = platform.ingestion.url if service == "ingestion" else platform.incidents.url
    answer = httpx.get(base + path, headers=platform.admin(), timeout=10)
    assert answer.status_code == 200, answer.text
    return {item["id"]: item for item in answer.json()["data"]}


def assert_credentials_work(platform: Platform, values: dict[str, str]) -> None:
    alert = httpx.post(
        platform.ingestion.url + "/api/v1/alerts",
        json={"service": "checkout", "summary": "checkout is slow", "severity": "warning"},
        headers={"Authorization": f"Bearer {values['integration-key']}"},
        timeout=10,
    )
    assert alert.status_code == 202, alert.text
    incidents = httpx.get(
        platform.incidents.url + "/api/v1/incidents",
        headers={"Authorization": f"Bearer {values['token']}"},
        timeout=10,
    )
    assert incidents.status_code == 200, incidents.text
    # A responder, not an admin.
    tokens = httpx.get(
        platform.incidents.url + "/api/v1/tokens",
        headers={"Authorization": f"Bearer {values['token']}"},
        timeout=10,
    )
    assert tokens.status_code == 403, tokens.text


def test_creates_working_credentials_once(platform: Platform, operator_secret: Any) -> None:
    env = credentials_env(platform, operator_secret)
    first = run_chart_program("operator_credentials.py", env)
    assert first.returncode == 0, first.stdout + first.stderr
    values = stored(operator_secret)
    assert set(values) == {"integration-key", "integration-id", "token", "token-id"}
    assert_credentials_work(platform, values)
    integrations = listed(platform, "ingestion", "/api/v1/integrations")
    tokens = listed(platform, "incidents", "/api/v1/tokens")
    assert list(integrations) == [values["integration-id"]]
    assert integrations[values["integration-id"]]["kind"] == "generic"
    assert integrations[values["integration-id"]]["name"] == "kubernetes-operator"
    assert list(tokens) == [values["token-id"]]
    assert tokens[values["token-id"]]["role"] == "responder"
    for secret in (values["integration-key"], values["token"], platform.admin_token):
        assert secret not in first.stdout + first.stderr, "no secret in the Job's log"

    again = run_chart_program("operator_credentials.py", env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to do" in again.stdout
    assert stored(operator_secret) == values
    assert list(listed(platform, "ingestion", "/api/v1/integrations")) == [values["integration-id"]]
    assert list(listed(platform, "incidents", "/api/v1/tokens")) == [values["token-id"]]
    patches = [r for r in operator_secret.requests if r == ("PATCH", SECRET_PATH)]
    assert len(patches) == 1, "the second run wrote nothing"


def test_replaces_a_revoked_credential_only(platform: Platform, operator_secret: Any) -> None:
    env = credentials_env(platform, operator_secret)
    assert run_chart_program("operator_credentials.py", env).returncode == 0
    before = stored(operator_secret)
    revoked = httpx.delete(
        f"{platform.incidents.url}/api/v1/tokens/{before['token-id']}",
        headers=platform.admin(),
        timeout=10,
    )
    assert revoked.status_code == 204
    result = run_chart_program("operator_credentials.py", env)
    assert result.returncode == 0, result.stdout + result.stderr
    after = stored(operator_secret)
    assert after["integration-key"] == before["integration-key"]
    assert after["integration-id"] == before["integration-id"]
    assert after["token"] != before["token"]
    assert list(listed(platform, "incidents", "/api/v1/tokens")) == [after["token-id"]]
    assert_credentials_work(platform, after)
    assert "restart" in result.stdout, "says the running operator needs a restart"


def test_a_credential_whose_key_was_lost_is_replaced_and_revoked(
    platform: Platform, operator_secret: Any
) -> None:
    env = credentials_env(platform, operator_secret)
    assert run_chart_program("operator_credentials.py", env).returncode == 0
    before = stored(operator_secret)
    secret = operator_secret.objects[SECRET_PATH]
    del secret["data"]["integration-key"]  # someone edited the Secret by hand
    result = run_chart_program("operator_credentials.py", env)
    assert result.returncode == 0, result.stdout + result.stderr
    after = stored(operator_secret)
    assert after["integration-id"] != before["integration-id"]
    integrations = listed(platform, "ingestion", "/api/v1/integrations")
    assert list(integrations) == [after["integration-id"]], "the old one was revoked"
    assert_credentials_work(platform, after)


def test_a_conflicting_write_starts_over_without_leaking(
    platform: Platform, operator_secret: Any
) -> None:
    operator_secret.conflicts = 1
    result = run_chart_program(
        "operator_credentials.py", credentials_env(platform, operator_secret)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "starting over" in result.stdout
    values = stored(operator_secret)
    assert list(listed(platform, "ingestion", "/api/v1/integrations")) == [values["integration-id"]]
    assert list(listed(platform, "incidents", "/api/v1/tokens")) == [values["token-id"]]
    assert_credentials_work(platform, values)


def test_oncall_sync_gets_an_admin_token(platform: Platform, operator_secret: Any) -> None:
    env = credentials_env(platform, operator_secret, ONCALL_TOKEN_NAME="kubernetes-operator-oncall")
    result = run_chart_program("operator_credentials.py", env)
    assert result.returncode == 0, result.stdout + result.stderr
    values = stored(operator_secret)
    tokens = listed(platform, "incidents", "/api/v1/tokens")
    assert tokens[values["oncall-token-id"]]["role"] == "admin"
    assert tokens[values["token-id"]]["role"] == "responder"
    users = httpx.get(
        platform.oncall.url + "/api/v1/users",
        headers={"Authorization": f"Bearer {values['oncall-token']}"},
        timeout=10,
    )
    assert users.status_code == 200, users.text


def test_refuses_without_the_secret_and_never_creates_one(
    platform: Platform, fake_kube: Any
) -> None:
    fake_kube.token = SA_TOKEN
    result = run_chart_program("operator_credentials.py", credentials_env(platform, fake_kube))
    assert result.returncode == 2
    assert "does not exist" in result.stdout
    assert {method for method, _ in fake_kube.requests} == {"GET"}


def test_uses_the_service_account_token(platform: Platform, operator_secret: Any) -> None:
    env = credentials_env(platform, operator_secret, KUBE_API_TOKEN="wrong")
    result = run_chart_program("operator_credentials.py", env)
    assert result.returncode != 0
    assert "401" in result.stderr


def test_gives_up_when_the_platform_never_gets_ready(
    platform: Platform, operator_secret: Any
) -> None:
    env = credentials_env(
        platform, operator_secret, ALERT_INGESTION_URL="http://127.0.0.1:9", WAIT_SECONDS="1"
    )
    result = run_chart_program("operator_credentials.py", env)
    assert result.returncode != 0
    assert "not ready after" in result.stderr
    assert not stored(operator_secret)


# --- migrate.py -----------------------------------------------------------------------------------


@pytest.fixture
def empty_database() -> Iterator[str]:
    server = server_url()
    url = create_database(server)
    try:
        yield url
    finally:
        drop_database(server, url)


def test_migrate_brings_a_new_database_to_head_and_is_repeatable(empty_database: str) -> None:
    engine = make_engine(Settings(database_url=empty_database))
    try:
        assert schema_status(engine) is not None
        for _ in range(2):
            result = run_chart_program("migrate.py", {"DATABASE_URL": empty_database})
            assert result.returncode == 0, result.stderr
            assert "at head" in result.stdout
        assert schema_status(engine) is None
    finally:
        engine.dispose()


def test_migrate_waits_for_the_database_then_fails() -> None:
    env = {
        "DATABASE_URL": "postgresql://nobody:nothing@127.0.0.1:9/nowhere",
        # Long enough that the first attempt (which loads Alembic: over a second on a busy
        # machine) fails before the deadline, so there is a retry to see.
        "MIGRATE_WAIT_SECONDS": "5",
    }
    result = run_chart_program("migrate.py", env)
    assert result.returncode != 0
    assert result.stderr.count("retrying") >= 1
    assert "OperationalError" in result.stderr


# --- readyz_check.py (helm test) ------------------------------------------------------------------


def _urls(platform: Platform) -> list[str]:
    return [platform.ingestion.url, platform.incidents.url, platform.oncall.url]


def test_helm_test_passes_on_a_ready_platform(platform: Platform) -> None:
    token = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": "kubernetes-operator", "role": "responder"},
        headers=platform.admin(),
        timeout=10,
    ).json()["token"]
    result = run_chart_program("readyz_check.py", {"OPERATOR_TOKEN": token}, *_urls(platform))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("-> 200") == 4
    assert "PASSED" in result.stdout


def test_helm_test_fails_on_a_bad_token_or_a_dead_service(platform: Platform) -> None:
    env = {"OPERATOR_TOKEN": "not-a-token", "READYZ_ATTEMPTS": "1"}
    bad_token = run_chart_program("readyz_check.py", env, *_urls(platform))
    assert bad_token.returncode == 1
    assert "-> 401" in bad_token.stdout
    urls = _urls(platform)
    urls[2] = "http://127.0.0.1:9"
    dead = run_chart_program("readyz_check.py", {"READYZ_ATTEMPTS": "1"}, *urls)
    assert dead.returncode == 1
    assert "FAILED" in dead.stdout
