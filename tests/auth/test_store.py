"""Credentials in PostgreSQL: only the digest is stored, revocation is immediate here."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, Engine, event, text
from sqlmodel import Session

from incident_platform.auth import store
from incident_platform.auth.credentials import hash_secret
from incident_platform.auth.rules import IntegrationIdentity, IntegrationKind, Principal, Role


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


def test_concurrent_misses_of_one_new_key_read_the_database_once(engine: Engine) -> None:
    """A storm's first requests with a key no worker has seen share one lookup, rather than
    queueing one checkout each for the same row (which on a busy machine outlasts the
    pool's checkout timeout and answers 503)."""
    with Session(engine) as session:
        _, minted = store.create_integration(session, "storm", IntegrationKind.GENERIC, None)
    lookups: list[str] = []

    def count_lookups(*args: object) -> None:
        statement = str(args[2])
        if "FROM integrations" in statement:
            lookups.append(statement)

    event.listen(engine, "before_cursor_execute", count_lookups)
    callers = 20
    everyone_asked = threading.Barrier(callers + 1)

    def look_up() -> IntegrationIdentity | None:
        everyone_asked.wait()
        return store.find_integration(engine, minted.clear, ttl=60)

    # Hold the table so the first lookup cannot finish before every caller has asked.
    with engine.connect() as blocker, ThreadPoolExecutor(callers) as pool:
        blocker.execute(text("LOCK TABLE integrations IN ACCESS EXCLUSIVE MODE"))
        answers = [pool.submit(look_up) for _ in range(callers)]
        everyone_asked.wait()
        _wait_for_a_lock_waiter(blocker)
        blocker.commit()
        identities = [answer.result(timeout=30) for answer in answers]

    assert {identity.name if identity else None for identity in identities} == {"storm"}
    assert len(lookups) == 1


def test_concurrent_misses_share_the_lookups_failure() -> None:
    failures: list[Exception] = []
    release = threading.Event()
    loads: list[int] = []

    def failing_load() -> Principal | None:
        loads.append(1)
        release.wait(timeout=30)
        raise RuntimeError("database gone")

    cache: store._TtlCache[Principal] = store._TtlCache()
    callers = 8
    everyone_asked = threading.Barrier(callers + 1)

    def ask() -> None:
        everyone_asked.wait()
        try:
            cache.get_or_load("digest", failing_load, ttl=60)
        except RuntimeError as error:
            failures.append(error)

    threads = [threading.Thread(target=ask) for _ in range(callers)]
    for thread in threads:
        thread.start()
    everyone_asked.wait()
    while not loads:
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert len(failures) == callers
    assert len(loads) <= callers  # late arrivals may start a load of their own
    assert cache.get("digest") == (False, None)  # a failure is never cached
    assert cache.get_or_load("digest", lambda: Principal("token:x", Role.VIEWER), ttl=60) == (
        Principal("token:x", Role.VIEWER)
    )


def _wait_for_a_lock_waiter(blocker: Connection) -> None:
    for _ in range(3000):
        waiting = blocker.execute(
            text(
                "SELECT count(*) FROM pg_locks"
                " WHERE NOT granted AND relation = 'integrations'::regclass"
            )
        ).scalar_one()
        if waiting:
            time.sleep(0.2)  # let the other callers reach the cache too
            return
        time.sleep(0.01)
    raise AssertionError("no lookup ever waited on the locked table")
