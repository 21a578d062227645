"""Stable fingerprints for alerts whose sender gave none."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# The width of ``alerts.fingerprint``.
MAX_FINGERPRINT = 255


def namespaced(prefix: str, key: str) -> str:
    """``prefix:key``, so senders cannot collide; a key too long for the column once
    prefixed is replaced by its digest (still stable, so repeats still deduplicate)."""
    fingerprint = f"{prefix}:{key}"
    if len(fingerprint) <= MAX_FINGERPRINT:
        return fingerprint
    return f"{prefix}#sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


def derive_fingerprint(service: str, summary: str, labels: Mapping[str, Any]) -> str:
    """Same service, summary and labels (in any order) give the same fingerprint."""
    canonical = json.dumps(
        [service, summary, sorted((str(k), str(v)) for k, v in labels.items())],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
