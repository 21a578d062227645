"""Schemathesis hooks for the fuzz stage (loaded through ``SCHEMATHESIS_HOOKS``).

PagerDuty senders authenticate with ``routing_key`` inside the body, not a header: when
the run fuzzes as a pagerduty integration, the generated body carries the real key so
the accepted path is explored too, not only the refusal of a random key.
"""

import os
from typing import Any

import schemathesis


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    routing_key = os.environ.get("FUZZ_ROUTING_KEY")
    if routing_key and ctx.operation.path == "/v2/enqueue" and isinstance(body, dict):
        return {**body, "routing_key": routing_key}
    return body
