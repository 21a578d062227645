"""The fuzz stage: schemathesis against the OpenAPI of each running service.

Once per kind of credential, so the authorization paths are fuzzed too: admin, responder
and viewer API tokens everywhere, and each integration kind on the ingestion endpoints
that take one. Checks: no 5xx, only declared status codes and content types, and
bodies that match their declared schemas. The seed and the number of examples are fixed,
so a failure reproduces; operations that stream (``text/event-stream``) are left out,
found by their declared content type, because a fuzzer waits forever on a stream.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from support.database import truncate_all
from support.openapi import fuzzable
from support.platform import Platform, create_integration

SEED = 20261201
MAX_EXAMPLES = 12
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)


def phases(kind: str) -> str:
    """The coverage phase (boundary values: NUL, surrogates, huge ids, extreme dates) for
    every credential that can write; a viewer is refused every write, so random fuzzing
    covers what differs for it (reads) at a third of the cost."""
    return "fuzzing" if kind == "viewer" else "coverage,fuzzing"


def make_token(platform: Platform, role: str) -> str:
    response = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": f"fuzz-{role}", "role": role},
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def credential(platform: Platform, kind: str) -> str:
    """A real credential of ``kind``: the bootstrap admin, a role token or an integration key."""
    if kind == "admin":
        return platform.admin_token
    if kind.startswith("integration:"):
        integration = kind.removeprefix("integration:")
        return create_integration(platform, integration, f"fuzz-{integration}")
    return make_token(platform, kind)


RUNS = [
    *(
        (service, role)
        for service in ("ingestion", "incidents", "oncall")
        for role in ("admin", "responder", "viewer")
    ),
    *(("ingestion", f"integration:{kind}") for kind in ("generic", "alertmanager", "pagerduty")),
]

_SUMMARY = re.compile(r"(\d+) generated")


@pytest.mark.parametrize(("service", "kind"), RUNS, ids=[f"{s}-{k}" for s, k in RUNS])
def test_fuzz_finds_nothing(
    running_platform: Platform, tmp_path: Path, service: str, kind: str
) -> None:
    platform = running_platform
    truncate_all(platform.database_url)
    process = getattr(platform, service)
    spec = httpx.get(process.url + "/openapi.json").json()
    secret = credential(platform, kind)
    schema_file = tmp_path / "openapi.json"
    selected = fuzzable(spec, kind)
    assert selected["paths"], f"nothing to fuzz on {service} as {kind}"
    schema_file.write_text(json.dumps(selected))
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "fuzz_hooks",
        "PYTHONPATH": str(Path(__file__).parent),
    }
    if kind == "integration:pagerduty":
        env["FUZZ_ROUTING_KEY"] = secret
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        str(schema_file),
        "--url",
        process.url,
        "--header",
        f"Authorization: Bearer {secret}",
        "--checks",
        CHECKS,
        "--phases",
        phases(kind),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--no-color",
    ]
    # In tmp_path: schemathesis keeps a cache of what it found in its working directory.
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path
    )
    output = result.stdout + result.stderr
    operations = sum(len(item) for item in selected["paths"].values())
    generated = _SUMMARY.findall(output)
    # For the record (pytest -rP): what this run covered.
    print(f"fuzzed {operations} operations of {service} as {kind}: {generated} test cases")
    assert result.returncode == 0, output[-20000:]
