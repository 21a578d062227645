"""Looking credentials up by digest, with a short cache on the hot ingestion path.

Revocation takes effect within ``credential_cache_seconds`` (5 s by default): the
price of not spending a database round trip on every alert.
"""

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Engine, select
from sqlmodel import Session

from incident_platform.auth.models import ApiToken, Integration, IntegrationKind, Role
from incident_platform.security import hash_secret

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class IntegrationIdentity:
    id: uuid.UUID
    name: str
    kind: IntegrationKind
    default_service: str | None


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role


class _TtlCache(Generic[V]):
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, V | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, V | None]:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: str, value: V | None, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 10_000:  # unknown keys from a scanner must not grow memory
                self._entries.clear()
            self._entries[key] = (time.monotonic() + ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


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


def find_integration(engine: Engine, key: str, *, ttl: float) -> IntegrationIdentity | None:
    digest = hash_secret(key)
    hit, cached = _integrations.get(digest)
    if hit:
        return cached
    with Session(engine) as session:
        row = session.execute(
            select(Integration).where(
                Integration.key_hash == digest,  # type: ignore[arg-type]
                Integration.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        ).scalar_one_or_none()
    identity = (
        IntegrationIdentity(row.id, row.name, IntegrationKind(row.kind), row.default_service)
        if row is not None
        else None
    )
    _integrations.put(digest, identity, ttl)
    return identity


def find_token(engine: Engine, token: str, *, ttl: float) -> Principal | None:
    digest = hash_secret(token)
    hit, cached = _tokens.get(digest)
    if hit:
        return cached
    with Session(engine) as session:
        row = session.execute(
            select(ApiToken).where(
                ApiToken.token_hash == digest,  # type: ignore[arg-type]
                ApiToken.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        ).scalar_one_or_none()
    principal = Principal(f"token:{row.name}", Role(row.role)) if row is not None else None
    _tokens.put(digest, principal, ttl)
    return principal
