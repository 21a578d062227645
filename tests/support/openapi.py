"""Reading the services' OpenAPI documents: which operations the fuzz stage may call."""

from typing import Any

STREAMING = "text/event-stream"
WRITE_METHODS = ("post", "put", "patch", "delete")
HTTP_METHODS = ("get", *WRITE_METHODS)


def streams(operation: dict[str, Any]) -> bool:
    """Whether any success answer of ``operation`` is declared as a Server-Sent Events stream."""
    return any(
        content_type.split(";")[0].strip().lower() == STREAMING
        for status, response in operation.get("responses", {}).items()
        if str(status).startswith("2")
        for content_type in response.get("content") or {}
    )


def fuzzable(spec: dict[str, Any], credential_kind: str) -> dict[str, Any]:
    """``spec`` without streaming operations, and, for an integration key, only the
    operations that take that kind of integration."""
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        kept = {}
        for method, operation in item.items():
            if method not in HTTP_METHODS or streams(operation):
                continue
            required = operation.get("x-required-credential")
            if credential_kind.startswith("integration:") and required != credential_kind:
                continue
            kept[method] = operation
        if kept:
            paths[path] = kept
    return {**spec, "paths": paths}
