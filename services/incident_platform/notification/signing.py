"""Signed, time-limited acknowledge links.

A token is ``v1.<incident id>.<expiry, unix seconds>.<signature>`` where the
signature is the unpadded url-safe base64 of HMAC-SHA256 over a purpose label,
the incident id and the expiry. Every part is url-safe, so the token goes into a
path segment as is. It is bound to exactly one incident and one expiry: changing
either breaks the signature. The incident id is readable on purpose (it is in
the message anyway); only the key makes a token valid.
"""

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Final

from incident_platform.settings import Settings

VERSION: Final = "v1"
# Domain separation: a signature made with this key for anything else never verifies here.
_PURPOSE: Final = b"incident-platform:ack-link:v1"
_SIGNATURE_LENGTH: Final = 43  # unpadded base64 of 32 bytes
_TOKEN = re.compile(
    r"v1\.(?P<incident>[1-9][0-9]{0,18})\.(?P<expires>[1-9][0-9]{0,11})\.(?P<sig>[A-Za-z0-9_-]{43})"
)
_MAX_INCIDENT_ID: Final = 2**63 - 1  # BIGINT

MALFORMED: Final = "malformed"
BAD_SIGNATURE: Final = "bad signature"
EXPIRED: Final = "expired"


class InvalidAckToken(Exception):
    """The token is not one we issued, was altered, or has expired (``reason`` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid acknowledge link: {reason}")
        self.reason = reason


class AckKeyMissing(RuntimeError):
    """No ``ACK_SIGNING_KEY`` is configured, so no acknowledge link can be made."""


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _signature(incident_id: int, expires: int, key: bytes) -> str:
    message = b"%s:%d:%d" % (_PURPOSE, incident_id, expires)
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_ack_token(incident_id: int, expires_at: datetime, key: bytes) -> str:
    """A token acknowledging ``incident_id`` until ``expires_at`` (whole seconds, rounded down)."""
    if not key:
        raise ValueError("the signing key is empty")
    if not 1 <= incident_id <= _MAX_INCIDENT_ID:
        raise ValueError(f"incident id out of range: {incident_id}")
    _require_aware(expires_at, "expires_at")
    expires = int(expires_at.timestamp())
    if expires < 1:
        raise ValueError("expires_at is before 1970")
    return f"{VERSION}.{incident_id}.{expires}.{_signature(incident_id, expires, key)}"


def verify_ack_token(token: str, key: bytes, now: datetime) -> int:
    """The incident id the token acknowledges, or :class:`InvalidAckToken`.

    The signature is checked (in constant time) before the expiry, so only a
    genuine token can learn that it has expired.
    """
    if not key:
        raise ValueError("the signing key is empty")
    _require_aware(now, "now")
    match = _TOKEN.fullmatch(token) if len(token) <= 128 else None
    if match is None:
        raise InvalidAckToken(MALFORMED)
    incident_id = int(match["incident"])
    expires = int(match["expires"])
    if incident_id > _MAX_INCIDENT_ID:
        raise InvalidAckToken(MALFORMED)
    expected = _signature(incident_id, expires, key).encode("ascii")
    if not hmac.compare_digest(expected, match["sig"].encode("ascii")):
        raise InvalidAckToken(BAD_SIGNATURE)
    if now.timestamp() >= expires:
        raise InvalidAckToken(EXPIRED)
    return incident_id


def ack_key(settings: Settings) -> bytes:
    if settings.ack_signing_key is None or not settings.ack_signing_key.get_secret_value():
        raise AckKeyMissing("ACK_SIGNING_KEY is not set; acknowledge links cannot be signed")
    return settings.ack_signing_key.get_secret_value().encode("utf-8")


def ack_expiry(settings: Settings, now: datetime) -> datetime:
    _require_aware(now, "now")
    return (now + timedelta(seconds=settings.ack_link_ttl_seconds)).astimezone(UTC)


def ack_url_for_token(settings: Settings, token: str) -> str:
    return f"{str(settings.oncall_public_url).rstrip('/')}/api/v1/ack/{token}"


def ack_url(settings: Settings, incident_id: int, now: datetime) -> str:
    """``{oncall_public_url}/api/v1/ack/{token}``, valid for ``ack_link_ttl_seconds`` from now."""
    token = sign_ack_token(incident_id, ack_expiry(settings, now), ack_key(settings))
    return ack_url_for_token(settings, token)
