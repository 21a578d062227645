"""Every write operation of the three services, enumerated from their OpenAPI documents,
refuses a missing credential with 401 and a too-weak one with 403.

A new write endpoint is covered without touching this file, and one that forgets its
credential fails here: each write must declare ``x-required-credential`` (which the
shared OpenAPI declarations derive from the route's own auth dependency).
"""

import re
import uuid
from typing import Any

import httpx

from support.platform import Platform, create_integration

WRITE_METHODS = ("post", "put", "patch", "delete")
PAGERDUTY_PAYLOAD = {"summary": "disk full", "source": "db-1", "severity": "critical"}

# For each required credential, one that is real but not enough.
WEAKER = {
    "admin": "responder",
    "responder": "viewer",
    "viewer": None,
    "integration:generic": "integration:alertmanager",
    "integration:alertmanager": "integration:generic",
    "integration:pagerduty": "integration:generic",
}


def make_token(platform: Platform, role: str) -> str:
    response = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": f"weak-{role}", "role": role},
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def secret_of(platform: Platform, kind: str) -> str:
    if kind.startswith("integration:"):
        return create_integration(platform, kind.removeprefix("integration:"))
    return make_token(platform, kind)


def concrete(path: str, operation: dict[str, Any]) -> str:
    """``path`` with each parameter filled with a value of its declared type."""
    types = {
        parameter["name"]: parameter.get("schema", {})
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }

    def fill(match: re.Match[str]) -> str:
        schema = types.get(match[1], {})
        if schema.get("format") == "uuid":
            return str(uuid.uuid4())
        if schema.get("type") == "integer":
            return "1"
        return "forged"

    return re.sub(r"\{([^}]+)\}", fill, path)


def write_operations(platform: Platform) -> list[tuple[str, str, str, dict[str, Any]]]:
    operations = []
    for service in (platform.ingestion, platform.incidents, platform.oncall):
        spec = httpx.get(service.url + "/openapi.json").json()
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if method in WRITE_METHODS:
                    operations.append((service.url, method, path, operation))
    return operations


def call(url: str, method: str, path: str, operation: dict[str, Any], **kwargs: Any) -> Any:
    return httpx.request(method, url + concrete(path, operation), json={}, **kwargs)


def test_every_write_refuses_a_missing_and_a_too_weak_credential(platform: Platform) -> None:
    operations = write_operations(platform)
    # Ingestion, incidents and on-call writes: keys, tokens, alerts, lifecycle, on-call setup.
    assert len(operations) >= 25
    weak_secrets = {
        kind: secret_of(platform, kind) for kind in {k for k in WEAKER.values() if k is not None}
    }
    problems = []
    for url, method, path, operation in operations:
        name = f"{method.upper()} {path}"
        required = operation.get("x-required-credential")
        if required is None:
            problems.append(f"{name}: declares no x-required-credential")
            continue
        if required == "ack-link":
            # The signed link in the path is the credential: a forged one is refused.
            answer = call(url, method, path, operation)
            if answer.status_code != 403:
                problems.append(f"{name} with a forged link: {answer.status_code}")
            continue
        if required == "integration:pagerduty":
            # PagerDuty's contract: the routing key is in the body, errors are 400s.
            event = {"event_action": "trigger", "payload": PAGERDUTY_PAYLOAD}
            for body in ({}, {"routing_key": weak_secrets["integration:generic"]}):
                answer = httpx.request(method, url + path, json={**body, **event})
                errors = answer.json().get("errors", [])
                if answer.status_code != 400 or not any("routing_key" in e for e in errors):
                    problems.append(f"{name} with {body}: {answer.status_code} {errors}")
            continue
        answer = call(url, method, path, operation)
        if answer.status_code != 401:
            problems.append(f"{name} without a credential: {answer.status_code}")
        weaker = WEAKER[required]
        if weaker is None:
            problems.append(f"{name}: a viewer may write")
            continue
        answer = call(
            url,
            method,
            path,
            operation,
            headers={"Authorization": f"Bearer {weak_secrets[weaker]}"},
        )
        if answer.status_code != 403:
            problems.append(f"{name} as {weaker} (needs {required}): {answer.status_code}")
    assert problems == []
