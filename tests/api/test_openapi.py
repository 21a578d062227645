"""The OpenAPI of each service tells the truth about what its routes answer."""

from typing import Any

import httpx

from support.openapi import fuzzable, streams
from support.platform import Platform

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
NO_DATABASE = {"/healthz", "/metrics"}


def operations(platform: Platform) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    found = []
    for service in (platform.ingestion, platform.incidents, platform.oncall):
        spec = httpx.get(service.url + "/openapi.json").json()
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if method in HTTP_METHODS:
                    found.append((method, path, operation, spec))
    return found


def schema_of(answer: dict[str, Any]) -> dict[str, Any]:
    return dict(answer["content"]["application/json"]["schema"])


def test_every_answer_is_declared_with_its_body(running_platform: Platform) -> None:
    problems = []
    for method, path, operation, spec in operations(running_platform):
        name = f"{method.upper()} {path}"
        answers = operation["responses"]
        components = spec["components"]["schemas"]
        for status, answer in answers.items():
            for content in answer.get("content", {}).values():
                ref = content.get("schema", {}).get("$ref", "")
                if ref and ref.rsplit("/", 1)[-1] not in components:
                    problems.append(f"{name} {status}: {ref} is not in the components")
        if "422" in answers and schema_of(answers["422"]) != {
            "$ref": "#/components/schemas/HTTPValidationError"
        }:
            problems.append(f"{name}: 422 is not FastAPI's validation shape")
        credential = operation.get("x-required-credential", "")
        bearer = credential in ("viewer", "responder", "admin") or (
            credential.startswith("integration:") and path != "/v2/enqueue"
        )
        if bearer and not {"401", "403"} <= set(answers):
            problems.append(f"{name}: takes {credential} but declares no 401/403")
        if "{" in path and "404" not in answers:
            problems.append(f"{name}: has a path parameter but declares no 404")
        if path not in NO_DATABASE and "503" not in answers:
            problems.append(f"{name}: reads the database but declares no 503")
        if "requestBody" in operation and "413" not in answers:
            problems.append(f"{name}: takes a body but declares no 413")
    assert problems == []
    transitions = [op for m, p, op, _ in operations(running_platform) if p.endswith("/acknowledge")]
    assert all("409" in op["responses"] for op in transitions)


def test_streaming_operations_are_left_out_of_the_fuzz_by_their_content_type() -> None:
    def answering(content_type: str) -> dict[str, Any]:
        return {"responses": {"200": {"content": {content_type: {"schema": {}}}}}}

    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "paths": {
            "/api/v1/events": {"get": answering("text/event-stream")},
            "/api/v1/incidents": {
                "get": answering("application/json"),
                "post": answering("application/json"),
            },
            "/api/v1/anything": {"get": answering("text/event-stream; charset=utf-8")},
        },
    }
    assert streams(spec["paths"]["/api/v1/events"]["get"])
    kept = fuzzable(spec, "admin")["paths"]
    assert kept == {"/api/v1/incidents": spec["paths"]["/api/v1/incidents"]}
