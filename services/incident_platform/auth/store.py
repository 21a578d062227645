"""Credentials in PostgreSQL: creating, listing, revoking, and looking them up by digest
with a short cache on the hot ingestion path.

Revocation takes effect within ``credential_cache_seconds`` (5 s by default) in other
processes: the price of not spending a database round trip on every alert.
"""

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from incident_platform.auth.credentials import (
    MintedCredential,
    hash_secret,
    integration_key_prefix,
    mint,
    token_prefix,
)
from incident_platform.auth.rules import IntegrationIdentity, IntegrationKind, Principal, Role
from incident_platform.auth.tables import ApiToken, Integration

V = TypeVar("V")


@dataclass
class _Flight(Generic[V]):
    """One lookup in progress; concurrent misses of the same key wait for it."""

    done: threading.Event = field(default_factory=threading.Event)
    value: V | None = None
    error: BaseException | None = None


class _TtlCache(Generic[V]):
    """Lookups by digest, kept ``ttl`` seconds, loaded once however many ask at once.

    A storm that starts with a credential no worker has seen yet (a new integration, a
    restarted replica) would otherwise send every one of its concurrent requests to the
    database for the same row, and on a busy machine enough of them wait out the pool's
    checkout timeout to answer 503. Concurrent misses share one load instead (its value,
    or its error: an outage is not retried once per waiter).
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, V | None]] = {}
        self._flights: dict[str, _Flight[V]] = {}
        # Bumped by clear(): a load that began before a revocation must not cache its answer.
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, V | None]:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: str, value: V | None, ttl: float, generation: int | None = None) -> None:
        if ttl <= 0:
            return
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            if len(self._entries) > 10_000:  # unknown keys from a scanner must not grow memory
                self._entries.clear()
            self._entries[key] = (time.monotonic() + ttl, value)

    def get_or_load(self, key: str, load: Callable[[], V | None], ttl: float) -> V | None:
        hit, value = self.get(key)
        if hit:
            return value
        with self._lock:
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
            generation = self._generation
        if not leading:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value
        try:
            flight.value = load()
            self.put(key, flight.value, ttl, generation)
            return flight.value
        except BaseException as error:
            flight.error = error
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1


_integrations: _TtlCache[IntegrationIdentity] = _TtlCache()
_tokens: _TtlCache[Principal] = _TtlCache()


def forget_cached_credentials() -> None:
    _integrations.clear()
    _tokens.clear()


def cached_integration(key: str) -> tuple[bool, IntegrationIdentity | None]:
    """(found in the cache, what it says) without touching the database."""
    return _integrations.get(hash_secret(key))


def cached_token(token: str) -> tuple[bool, Principal | None]:
    return _tokens.get(hash_secret(token))


_Credential = TypeVar("_Credential", ApiToken, Integration)


def _active(engine: Engine, table: type[_Credential], digest: str) -> _Credential | None:
    """The unrevoked token or integration whose secret has this digest."""
    stored_digest = ApiToken.token_hash if table is ApiToken else Integration.key_hash
    with Session(engine) as session:
        return session.execute(
            select(table).where(
                stored_digest == digest,  # type: ignore[arg-type]
                table.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        ).scalar_one_or_none()


def find_integration(engine: Engine, key: str, *, ttl: float) -> IntegrationIdentity | None:
    def load() -> IntegrationIdentity | None:
        row = _active(engine, Integration, digest)
        if row is None:
            return None
        return IntegrationIdentity(row.id, row.name, IntegrationKind(row.kind), row.default_service)

    digest = hash_secret(key)
    return _integrations.get_or_load(digest, load, ttl)


def find_token(engine: Engine, token: str, *, ttl: float) -> Principal | None:
    def load() -> Principal | None:
        row = _active(engine, ApiToken, digest)
        return Principal(f"token:{row.name}", Role(row.role)) if row is not None else None

    digest = hash_secret(token)
    return _tokens.get_or_load(digest, load, ttl)


def create_token(session: Session, name: str, role: Role) -> tuple[ApiToken, MintedCredential]:
    """Stores a new token's digest; the clear token is in the credential, never stored."""
    credential = mint(token_prefix(role))
    row = ApiToken(
        name=name,
        role=role,
        token_hash=credential.digest,
        token_prefix=credential.visible_prefix,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, credential


def create_integration(
    session: Session, name: str, kind: IntegrationKind, default_service: str | None
) -> tuple[Integration, MintedCredential]:
    """Stores a new integration's key digest; the clear key is in the credential only."""
    credential = mint(integration_key_prefix(kind))
    row = Integration(
        name=name,
        kind=kind,
        default_service=default_service,
        key_hash=credential.digest,
        key_prefix=credential.visible_prefix,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, credential


def active_tokens(session: Session) -> list[ApiToken]:
    return list(
        session.execute(
            select(ApiToken)
            .where(col(ApiToken.revoked_at).is_(None))
            .order_by(col(ApiToken.created_at))
        ).scalars()
    )


def active_integrations(session: Session) -> list[Integration]:
    return list(
        session.execute(
            select(Integration)
            .where(col(Integration.revoked_at).is_(None))
            .order_by(col(Integration.created_at))
        ).scalars()
    )


def revoke_token(session: Session, token_id: uuid.UUID) -> bool:
    """Revokes an active token (False if there is none by that id) and drops this
    process's cached lookups, so the token stops working here at once."""
    return _revoke(session, session.get(ApiToken, token_id))


def revoke_integration(session: Session, integration_id: uuid.UUID) -> bool:
    """As :func:`revoke_token`, for an integration key."""
    return _revoke(session, session.get(Integration, integration_id))


def _revoke(session: Session, row: ApiToken | Integration | None) -> bool:
    if row is None or row.revoked_at is not None:
        return False
    # The database's clock, like every other credential timestamp.
    row.revoked_at = session.execute(select(func.now())).scalar_one()
    session.commit()
    forget_cached_credentials()
    return True
