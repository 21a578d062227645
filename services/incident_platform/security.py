"""Credential generation, hashing and constant-time comparison.

Tokens and integration keys are 256-bit random strings, so a single SHA-256
is the right hash (as GitHub and PagerDuty do for API keys): a slow password
hash would only add latency to every request without adding strength. The
database stores the digest; the clear value is shown once, on creation.
"""

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32
# Shown in listings so people can tell credentials apart without revealing them.
VISIBLE_PREFIX_CHARS = 8


def generate_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(TOKEN_BYTES)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secrets_match(candidate: str, expected: str) -> bool:
    return hmac.compare_digest(candidate.encode("utf-8"), expected.encode("utf-8"))


def masked(secret_prefix: str) -> str:
    return f"{secret_prefix}…"
