"""Fixtures of the operator tests: credentials on the real platform, an in-process Kubernetes
API (kmock's emulator, in its own thread), the whole operator under ``kopf.testing.KopfRunner``
and a validator of objects against the CRDs in ``crds/``.

Test modules cannot import this file (pytest's importlib mode), so everything they use is a
fixture typed with library types only.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import jsonschema
import kmock
import kopf
import pytest
import pytest_asyncio
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from kopf.testing import KopfRunner

from incident_operator.oncall import MEMO_KEY, OnCallSync
from incident_operator.runtime import Runtime
from incident_operator.settings import Config
from support.operator import GROUP, NAMESPACE, REPO, VERSION, RunOperator
from support.platform import Platform, create_integration

# --- CRD schemas as JSON Schema ------------------------------------------------------------------

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
_VALUE_KEYWORDS = (
    "type", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern", "required",
    "format", "minItems", "maxItems",
)  # fmt: skip

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _map_list_keys_unique(
    validator: Validator, map_keys: list[str], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``x-kubernetes-list-type: map``: one item per key (e.g. one condition per type)."""
    if not isinstance(instance, list):
        return
    seen: set[str] = set()
    for item in instance:
        key = repr([item.get(k) for k in map_keys] if isinstance(item, dict) else item)
        if key in seen:
            yield ValidationError(f"duplicate map-list entry {key}")
        seen.add(key)


CrdValidator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, validators={"x-kubernetes-list-map-keys": _map_list_keys_unique}
)


def openapi_to_json_schema(node: Mapping[str, Any]) -> dict[str, Any]:
    """A CRD ``openAPIV3Schema`` node as JSON Schema, unknown fields refused (as ``kubectl``'s
    strict field validation does) except under ``x-kubernetes-preserve-unknown-fields``."""
    out: dict[str, Any] = {key: node[key] for key in _VALUE_KEYWORDS if key in node}
    if "properties" in node:
        out["properties"] = {k: openapi_to_json_schema(v) for k, v in node["properties"].items()}
    if "items" in node:
        out["items"] = openapi_to_json_schema(node["items"])
    if isinstance(node.get("additionalProperties"), Mapping):
        out["additionalProperties"] = openapi_to_json_schema(node["additionalProperties"])
    elif node.get("type") == "object" and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if node.get("x-kubernetes-list-type") == "map":
        out["x-kubernetes-list-map-keys"] = node["x-kubernetes-list-map-keys"]
    if node.get("nullable"):
        out["type"] = [node["type"], "null"]
    return out


def load_crds() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((REPO / "crds").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found[doc["spec"]["names"]["kind"]] = doc
    return found


def resource_schema(crd: Mapping[str, Any]) -> dict[str, Any]:
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == VERSION]
    schema = openapi_to_json_schema(version["schema"]["openAPIV3Schema"])
    schema["properties"]["apiVersion"] = {"const": f"{GROUP}/{VERSION}"}
    schema["properties"]["kind"] = {"const": crd["spec"]["names"]["kind"]}
    label_map = {
        "type": "object",
        "additionalProperties": {"type": "string", "maxLength": 63, "pattern": _LABEL_VALUE},
    }
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "maxLength": 253, "pattern": _DNS_SUBDOMAIN},
            "namespace": {"type": "string", "maxLength": 63, "pattern": _DNS_LABEL},
            "labels": label_map,
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    return schema


@pytest.fixture(scope="session")
def crd_problems() -> Callable[[Mapping[str, Any]], list[str]]:
    """Validate a whole custom resource against its CRD: the problems, empty when valid."""
    validators: dict[str, Validator] = {}
    for kind, crd in load_crds().items():
        schema = resource_schema(crd)
        CrdValidator.check_schema(schema)
        validators[kind] = CrdValidator(schema, format_checker=FORMATS)

    def problems(resource: Mapping[str, Any]) -> list[str]:
        validator = validators.get(str(resource.get("kind")))
        if validator is None:
            return [f"no CRD for kind {resource.get('kind')!r}"]
        return sorted(
            f"{'.'.join(str(p) for p in error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(resource)
        )

    return problems


# --- The platform: credentials and the operator's configuration --------------------------------


def create_responder_token(platform: Platform) -> str:
    response = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": "incident-operator", "role": "responder"},
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


@pytest.fixture
def operator_config(platform: Platform) -> Config:
    return Config(
        alert_ingestion_url=platform.ingestion.url,
        incident_management_url=platform.incidents.url,
        platform_integration_key=create_integration(platform, "generic", name="operator"),
        platform_api_token=create_responder_token(platform),
        incident_namespace=NAMESPACE,
        feed_poll_interval_seconds=0.2,
        retry_delay_seconds=0.5,
        max_retry_delay_seconds=2,
        http_timeout_seconds=10,
    )


@pytest.fixture
def operator_key(operator_config: Config) -> str:
    """The generic integration key the operator posts alerts with."""
    return operator_config.platform_integration_key.get_secret_value()


@pytest_asyncio.fixture
async def memo(operator_config: Config) -> AsyncIterator[kopf.Memo]:
    """The memo kopf would hand the handlers after start-up (without the feed task)."""
    runtime = Runtime.create(operator_config)
    yield kopf.Memo(runtime=runtime)
    await runtime.aclose()


# --- Kubernetes: kmock's emulator in its own thread ----------------------------------------------


class Emulator(kmock.KubernetesEmulator):
    """kmock's emulator plus what a real API server does with metadata and subresources.

    uid and creationTimestamp on create; a new ``resourceVersion`` on every write (kopf tests
    it in its finalizer JSON patches and relies on it to skip stale watch events);
    ``metadata.generation`` bumped on spec changes; ``status`` ignored on create and on
    main-resource patches, and only ``status`` taken from ``/status`` patches (the rules of the
    status subresource). Lists carry the current resourceVersion and a watch from it does not
    replay what the list already showed (kmock replays every object at the start of a watch,
    which kopf would take for new events).
    """

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.last_version = 0

    def _next_version(self) -> str:
        self.last_version += 1
        return str(self.last_version)

    async def _serve_list(self, request: Any) -> Any:
        payload = cast(dict[str, Any], await super()._serve_list(request))
        payload["metadata"]["resourceVersion"] = str(self.last_version)
        return payload

    async def _serve_watch(self, request: Any) -> AsyncIterator[Any]:
        since = request.params.get("resourceVersion", "")
        async for event in super()._serve_watch(request):
            if since.isdigit() and isinstance(event, dict) and event.get("type") == "ADDED":
                version = event["object"].get("metadata", {}).get("resourceVersion", "")
                if version.isdigit() and int(version) <= int(since):
                    continue  # already in the list the client started from
            yield event

    async def _handle(self, request: Any) -> Any:
        data = request.data
        writes = request.action in (kmock.action.CREATE, kmock.action.UPDATE)
        if request.resource is not None and writes:
            version = self._next_version()
            ours = request.resource.group == GROUP
            if isinstance(data, list):  # a JSON patch
                data.append({"op": "add", "path": "/metadata/resourceVersion", "value": version})
            elif isinstance(data, dict) and request.action == kmock.action.CREATE:
                meta = data.setdefault("metadata", {})
                if not meta.get("name") and meta.get("generateName"):
                    meta["name"] = meta["generateName"] + uuid.uuid4().hex[:8]
                if request.namespace:
                    meta.setdefault("namespace", request.namespace)
                meta.update(resourceVersion=version, generation=1, uid=str(uuid.uuid4()))
                meta["creationTimestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                if ours:
                    data.pop("status", None)
            elif isinstance(data, dict):  # a merge patch
                if ours and request.subresource == "status":
                    for key in [k for k in data if k != "status"]:
                        del data[key]
                elif ours:
                    data.pop("status", None)
                    key = (request.resource, request.namespace, request.name)
                    if "spec" in data and key in self.objects:
                        current = self.objects[key].get("metadata", {}).get("generation", 1)
                        data.setdefault("metadata", {})["generation"] = current + 1
                data.setdefault("metadata", {})["resourceVersion"] = version
        return await super()._handle(request)


# Every kind in crds/ (kopf only watches those it has handlers for).
KINDS = (
    ("Alert", "alerts"),
    ("Incident", "incidents"),
    ("Silence", "silences"),
    ("OnCallSchedule", "oncallschedules"),
    ("EscalationPolicy", "escalationpolicies"),
)


class EmulatorThread:
    def __init__(self) -> None:
        self.url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="kmock", daemon=True)
        self._error: BaseException | None = None
        self._emulator: Emulator | None = None

    def refuse(self, request: str, status: int, message: str) -> None:
        """Answer ``request`` (e.g. ``"patch /apis/.../inc-2/status"``) with ``status``, as an
        API server refuses one object (an admission webhook, a quota, a schema)."""

        def add() -> None:
            assert self._emulator is not None
            body = {"kind": "Status", "status": "Failure", "message": message, "code": status}
            reply = kmock.Response(status=status, payload=body)  # type: ignore[attr-defined]
            self._emulator[request] << reply

        async def on_its_loop() -> None:
            add()

        asyncio.run_coroutine_threadsafe(on_its_loop(), self._loop).result(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as error:
            self._error = error
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with Emulator() as emulator, kmock.Server(emulator) as server:
            self._emulator = emulator
            info = kmock.ResourceInfo
            verbs = {"get", "list", "watch", "create", "patch", "delete"}
            emulator.resources["v1/namespaces"] = info(
                kind="Namespace", namespaced=False, verbs=verbs
            )
            emulator.resources["v1/events"] = info(kind="Event", namespaced=True, verbs=verbs)
            for kind, plural in KINDS:
                emulator.resources[f"{GROUP}/{VERSION}/{plural}"] = info(
                    kind=kind,
                    singular=kind.lower(),
                    namespaced=True,
                    subresources={"status"},
                    verbs=verbs,
                )
            self.url = str(server.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> EmulatorThread:
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"kmock did not start: {self._error!r}")
        return self

    def __exit__(self, *_: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@pytest.fixture
def kube_api() -> Iterator[EmulatorThread]:
    """A fresh emulated API server."""
    with EmulatorThread() as emulator:
        yield emulator


@pytest.fixture
def kube(kube_api: EmulatorThread) -> Iterator[httpx.Client]:
    """A client of a fresh emulated API server, used the way kubectl would use a cluster."""
    # (kmock does not check that namespaces exist, and cannot create one at /api/v1/namespaces.)
    with httpx.Client(base_url=kube_api.url, timeout=10) as client:
        yield client


@pytest.fixture
def kube_connection(kube: httpx.Client) -> kopf.ConnectionInfo:
    return kopf.ConnectionInfo(server=str(kube.base_url).rstrip("/"))


# --- The whole operator -------------------------------------------------------------------------


@pytest.fixture
def run_operator(
    operator_config: Config, kube: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> RunOperator:
    """Run ``kopf run --standalone -A -m incident_operator.main`` (in a thread) against the
    emulator and the real services, configured through the environment as in a cluster."""
    environment = {
        "ALERT_INGESTION_URL": operator_config.alert_ingestion_url,
        "INCIDENT_MANAGEMENT_URL": operator_config.incident_management_url,
        "PLATFORM_INTEGRATION_KEY": operator_config.platform_integration_key.get_secret_value(),
        "PLATFORM_API_TOKEN": operator_config.platform_api_token.get_secret_value(),
        "INCIDENT_NAMESPACE": NAMESPACE,
        "FEED_POLL_INTERVAL_SECONDS": "0.2",
        "RETRY_DELAY_SECONDS": "0.5",
        "MAX_RETRY_DELAY_SECONDS": "2",
        "KUBE_API_SERVER": str(kube.base_url).rstrip("/"),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    @contextmanager
    def run(*options: str) -> Iterator[KopfRunner]:
        # `-m` imports the module; a module imported before would not register its handlers
        # again with this run's fresh registry.
        sys.modules.pop("incident_operator.main", None)
        args = ["run", "--standalone", "-A", *options, "-m", "incident_operator.main"]
        with KopfRunner(args, registry=kopf.OperatorRegistry(), timeout=60) as runner:
            yield runner
        assert runner.exception is None, runner.output[-5000:]
        assert runner.exit_code == 0, runner.output[-5000:]

    return run


# --- On-call as code: OnCallSchedule and EscalationPolicy ----------------------------------------


@pytest.fixture
def oncall_token(platform: Platform) -> str:
    """An admin-role API token (the on-call service's writes need the admin role)."""
    response = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": "incident-operator-oncall", "role": "admin"},
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


@pytest.fixture
def oncall_config(operator_config: Config, platform: Platform, oncall_token: str) -> Config:
    """The operator's configuration with on-call sync on (short retry delays)."""
    return Config.model_validate(
        {
            **operator_config.model_dump(),
            "oncall_url": platform.oncall.url,
            "oncall_api_token": oncall_token,
            "oncall_unresolved_retry_seconds": 1.0,
        }
    )


@pytest_asyncio.fixture
async def oncall_memo(oncall_config: Config, kube: httpx.Client) -> AsyncIterator[kopf.Memo]:
    """The memo kopf would hand the on-call handlers after start-up and login (emulator)."""
    runtime = Runtime.create(oncall_config)
    runtime.connect(kopf.ConnectionInfo(server=str(kube.base_url).rstrip("/")))
    sync = OnCallSync.create(runtime)
    yield kopf.Memo(runtime=runtime, **{MEMO_KEY: sync})
    await sync.aclose()
    await runtime.aclose()


@pytest_asyncio.fixture
async def service(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The on-call service's HTTP API as an admin, for the async tests."""
    async with httpx.AsyncClient(
        base_url=platform.oncall.url, timeout=30, headers=platform.admin()
    ) as client:
        yield client


@pytest.fixture
def oncall_environment(oncall_config: Config, monkeypatch: pytest.MonkeyPatch) -> Config:
    """On-call sync switched on for ``run_operator`` (through the environment, as in a
    cluster); request it before calling ``run_operator``."""
    assert oncall_config.oncall_api_token is not None
    monkeypatch.setenv("ONCALL_URL", oncall_config.oncall_url)
    monkeypatch.setenv("ONCALL_API_TOKEN", oncall_config.oncall_api_token.get_secret_value())
    monkeypatch.setenv("ONCALL_UNRESOLVED_RETRY_SECONDS", "1")
    return oncall_config
