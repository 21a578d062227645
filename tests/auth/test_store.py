"""Credentials in PostgreSQL: only the digest is stored, revocation is immediate here."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from incident_platform.auth import store
from incident_platform.auth.credentials import hash_secret
from incident_platform.auth.rules import IntegrationKind, Principal, Role
from incident_platform.db import make_engine
from incident_platform.settings import Settings
from support.platform import Platform


@pytest.fixture
def engine(platform: Platform) -> Iterator[Engine]:
    engine = make_engine(Settings(database_url=platform.database_url))
    yield engine
    engine.dispose()


def test_created_token_is_stored_as_its_digest_and_found_by_the_clear_value(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        row, credential = store.create_token(session, "ci", Role.RESPONDER)
        token_id = row.id
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT token_hash, token_prefix FROM api_tokens WHERE id = :id"),
            {"id": token_id},
        ).one()
        everything = str(connection.execute(text("SELECT * FROM api_tokens")).all())
    assert stored.token_hash == hash_secret(credential.clear)
    assert stored.token_prefix == credential.visible_prefix
    assert credential.clear not in everything

    assert store.find_token(engine, credential.clear, ttl=0) == Principal(
        "token:ci", Role.RESPONDER
    )
    assert store.find_token(engine, credential.clear + "x", ttl=0) is None


def test_revoked_token_stops_working_at_once_even_when_cached(engine: Engine) -> None:
    with Session(engine) as session:
        row, credential = store.create_token(session, "wallboard", Role.VIEWER)
    assert store.find_token(engine, credential.clear, ttl=60) is not None  # now cached

    with Session(engine) as session:
        assert store.revoke_token(session, row.id)
        assert not store.revoke_token(session, row.id)  # already revoked
        assert not store.revoke_token(session, uuid.uuid4())
        assert [t.name for t in store.active_tokens(session)] == []

    assert store.find_token(engine, credential.clear, ttl=60) is None


def test_integration_key_carries_its_kind_and_revokes(engine: Engine) -> None:
    with Session(engine) as session:
        row, credential = store.create_integration(
            session, "prom", IntegrationKind.ALERTMANAGER, "search"
        )
        assert credential.clear.startswith("ik_al_")
        assert [i.name for i in store.active_integrations(session)] == ["prom"]
    found = store.find_integration(engine, credential.clear, ttl=0)
    assert found is not None
    assert (found.id, found.kind, found.default_service) == (
        row.id,
        IntegrationKind.ALERTMANAGER,
        "search",
    )
    with Session(engine) as session:
        assert store.revoke_integration(session, row.id)
        assert store.active_integrations(session) == []
    assert store.find_integration(engine, credential.clear, ttl=0) is None
