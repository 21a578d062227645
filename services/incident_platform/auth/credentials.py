"""Credentials: minting, hashing and constant-time comparison.

Tokens and integration keys are 256-bit random strings, so a single SHA-256
is the right hash (as GitHub and PagerDuty do for API keys): a slow password
hash would only add latency to every request without adding strength. The
database stores the digest; the clear value is shown once, on creation.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from incident_platform.auth.rules import IntegrationKind, Role

TOKEN_BYTES = 32
# Shown in listings so people can tell credentials apart without revealing them.
VISIBLE_PREFIX_CHARS = 8


@dataclass(frozen=True, slots=True)
class MintedCredential:
    """A new credential: ``clear`` is answered once and never stored or logged."""

    clear: str
    digest: str
    visible_prefix: str

    def __repr__(self) -> str:
        return f"MintedCredential(visible_prefix={self.visible_prefix!r})"


def generate_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(TOKEN_BYTES)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secrets_match(candidate: str, expected: str) -> bool:
    return hmac.compare_digest(candidate.encode("utf-8"), expected.encode("utf-8"))


def digests_match(candidate: str, expected: str) -> bool:
    """Compare two clear credentials by their digests, in constant time."""
    return secrets_match(hash_secret(candidate), hash_secret(expected))


def masked(secret_prefix: str) -> str:
    return f"{secret_prefix}…"


def mint(prefix: str) -> MintedCredential:
    """Credential minting rule: ``<prefix>_<random>``; listings show the prefix and
    the first :data:`VISIBLE_PREFIX_CHARS` random characters."""
    clear = generate_secret(prefix)
    return MintedCredential(
        clear=clear,
        digest=hash_secret(clear),
        visible_prefix=clear[: len(prefix) + 1 + VISIBLE_PREFIX_CHARS],
    )


def token_prefix(role: Role) -> str:
    """API tokens read ``ipt_<first letter of the role>``: ``ipt_a`` for an admin."""
    return f"ipt_{role.value[:1]}"


def integration_key_prefix(kind: IntegrationKind) -> str:
    """Integration keys read ``ik_<first two letters of the kind>``: ``ik_al``, ``ik_pa``."""
    return f"ik_{kind.value[:2]}"
