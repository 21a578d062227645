"""Credentials in PostgreSQL: creating, listing, revoking, and looking them up by digest
with a short cache on the hot ingestion path.

Revocation takes effect within ``credential_cache_seconds`` (5 s by default) in other
processes: the price of not spending a database round trip on every alert.
"""

import threading
import time
import uuid
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
