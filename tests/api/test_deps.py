"""The shared dependencies: bearer parsing, the role checks (bootstrap admin and stored
tokens) and the integration-kind checks, through a FastAPI app on the real database."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session

from incident_platform.api import deps
from incident_platform.api.deps import (
    CREDENTIAL_OF,
    AdminDep,
    GenericIntegrationDep,
    ResponderDep,
    ViewerDep,
)
from incident_platform.auth import store
from incident_platform.auth.rules import IntegrationKind, Role
from incident_platform.settings import Settings
from support.platform import Platform

ADMIN = "deps-test-admin-token"

app = FastAPI()


@app.get("/viewer")
async def as_viewer(principal: ViewerDep) -> dict[str, str]:
    return {"name": principal.name, "role": principal.role.value}


@app.get("/responder")
async def as_responder(principal: ResponderDep) -> dict[str, str]:
    return {"name": principal.name}


@app.get("/admin")
async def as_admin(principal: AdminDep) -> dict[str, str]:
    return {"name": principal.name}


@app.post("/generic")
async def as_generic(integration: GenericIntegrationDep) -> dict[str, str]:
    return {"name": integration.name, "kind": integration.kind.value}


@pytest.fixture
def client(platform: Platform, engine: Engine) -> Iterator[TestClient]:
    settings = Settings(database_url=platform.database_url, platform_admin_token=SecretStr(ADMIN))

    async def test_settings() -> Settings:
        return settings

    async def test_engine() -> Engine:
        return engine

    app.dependency_overrides = {deps._settings: test_settings, deps._engine: test_engine}
    store.forget_cached_credentials()
    with TestClient(app) as client:
        yield client
    app.dependency_overrides = {}
    store.forget_cached_credentials()


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def token(engine: Engine, role: Role) -> str:
    with Session(engine) as session:
        _, credential = store.create_token(session, f"deps-{role.value}", role)
    return credential.clear


def integration(engine: Engine, kind: IntegrationKind) -> str:
    with Session(engine) as session:
        _, credential = store.create_integration(session, f"deps-{kind.value}", kind, None)
    return credential.clear


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer    ", "Basic dXNlcjpwYXNz", "Token abc"],
)
def test_without_a_bearer_credential_the_answer_is_401_asking_for_one(
    client: TestClient, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}

    response = client.get("/viewer", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "missing bearer credential in the Authorization header"}


def test_the_scheme_is_case_insensitive_and_the_credential_trimmed(client: TestClient) -> None:
    response = client.get("/admin", headers={"Authorization": f"bearer   {ADMIN}  "})

    assert response.status_code == 200
    assert response.json() == {"name": "admin"}


def test_an_unknown_credential_is_401_for_tokens_and_for_integrations(
    client: TestClient,
) -> None:
    token_answer = client.get("/viewer", headers=bearer(ADMIN + "x"))
    key_answer = client.post("/generic", headers=bearer("ik_ge_unknown"))

    assert (token_answer.status_code, token_answer.json()) == (
        401,
        {"detail": "invalid credential"},
    )
    assert (key_answer.status_code, key_answer.json()) == (
        401,
        {"detail": "invalid integration key"},
    )
    assert key_answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_stored_token_may_do_what_its_role_allows_and_no_more(
    client: TestClient, engine: Engine
) -> None:
    responder = token(engine, Role.RESPONDER)

    viewer_answer = client.get("/viewer", headers=bearer(responder))
    responder_answer = client.get("/responder", headers=bearer(responder))
    admin_answer = client.get("/admin", headers=bearer(responder))

    assert viewer_answer.json() == {"name": "token:deps-responder", "role": "responder"}
    assert responder_answer.status_code == 200
    assert admin_answer.status_code == 403
    assert admin_answer.json() == {"detail": "role responder may not do this; admin required"}


def test_the_bootstrap_admin_passes_every_role_check(client: TestClient) -> None:
    for path in ("/viewer", "/responder", "/admin"):
        assert client.get(path, headers=bearer(ADMIN)).status_code == 200, path


def test_without_an_admin_token_configured_nothing_is_the_admin(
    client: TestClient, platform: Platform
) -> None:
    unset = Settings(database_url=platform.database_url)

    async def no_admin() -> Settings:
        return unset

    app.dependency_overrides[deps._settings] = no_admin

    assert client.get("/viewer", headers=bearer(ADMIN)).status_code == 401


def test_an_integration_key_of_another_kind_is_403_naming_both_kinds(
    client: TestClient, engine: Engine
) -> None:
    generic = integration(engine, IntegrationKind.GENERIC)
    alertmanager = integration(engine, IntegrationKind.ALERTMANAGER)

    accepted = client.post("/generic", headers=bearer(generic))
    refused = client.post("/generic", headers=bearer(alertmanager))

    assert accepted.json() == {"name": "deps-generic", "kind": "generic"}
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "integration 'deps-alertmanager' is of kind alertmanager;"
        " this endpoint takes generic"
    }


def test_a_key_is_not_a_token_and_a_token_is_not_a_key(client: TestClient, engine: Engine) -> None:
    generic = integration(engine, IntegrationKind.GENERIC)
    admin_token = token(engine, Role.ADMIN)

    assert client.get("/viewer", headers=bearer(generic)).status_code == 401
    assert client.post("/generic", headers=bearer(admin_token)).status_code == 401


def test_the_openapi_knows_what_each_dependency_requires() -> None:
    required = sorted(CREDENTIAL_OF.values())

    assert {"viewer", "responder", "admin", "integration:generic"} <= set(required)
    assert "integration:alertmanager" in required
