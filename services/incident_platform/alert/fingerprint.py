"""Stable fingerprints for alerts whose sender gave none."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def derive_fingerprint(service: str, summary: str, labels: Mapping[str, Any]) -> str:
    """Same service, summary and labels (in any order) give the same fingerprint."""
    canonical = json.dumps(
        [service, summary, sorted((str(k), str(v)) for k, v in labels.items())],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
