"""A small Kubernetes API client for what kopf's handlers do not give the operator: the feed
follower creates, lists and status-patches Incident objects; the on-call sync reads
OnCallSchedule and EscalationPolicy objects (a policy's schedules, adoption checks).

kopf's own API client is internal, so this one uses httpx with the very credentials the
operator logged in with (the ``kopf.ConnectionInfo`` of :func:`incident_operator.runtime.
operator_login`): same server, same token or client certificate, same CA. One instance per
login is shared by everything that runs (:meth:`incident_operator.runtime.Runtime.kube`).
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from collections.abc import Mapping
from typing import Any

import httpx
import kopf

from incident_operator.crd import GROUP, VERSION


class KubeError(Exception):
    """The API server could not be used right now (down, timeouts, 5xx, 401/403)."""


class ObjectRejected(KubeError):
    """The API server refused this one object (4xx): others may still be written."""


class ObjectGone(Exception):
    """The object to patch does not exist (e.g. someone deleted a mirror by hand)."""


def _decode(data: str | bytes) -> bytes:
    """kubeconfig ``*-data`` fields are base64 of PEM; accept PEM as is too."""
    raw = data.encode() if isinstance(data, str) else data
    return raw if raw.lstrip().startswith(b"-----BEGIN") else base64.b64decode(raw)


def _file_for(path: Any, data: str | bytes | None, directory: str) -> str | None:
    if path:
        return os.fsdecode(path)
    if data:
        handle, name = tempfile.mkstemp(dir=directory, suffix=".pem")
        with os.fdopen(handle, "wb") as file:
            file.write(_decode(data))
        return name
    return None


def ssl_context(info: kopf.ConnectionInfo, directory: str) -> ssl.SSLContext | bool:
    """What httpx should verify the server with (and present as a client certificate)."""
    if not info.server.startswith("https://"):
        return True
    context = ssl.create_default_context()
    if info.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if info.ca_path:
        context.load_verify_locations(cafile=os.fsdecode(info.ca_path))
    elif info.ca_data:
        context.load_verify_locations(cadata=_decode(info.ca_data).decode("ascii"))
    certificate = _file_for(info.certificate_path, info.certificate_data, directory)
    key = _file_for(info.private_key_path, info.private_key_data, directory)
    if certificate:
        context.load_cert_chain(certfile=certificate, keyfile=key)
    return context


class KubeClient:
    """Get, list, create and status-patch objects of the platform's custom resources."""

    def __init__(self, info: kopf.ConnectionInfo, *, timeout: float = 10.0) -> None:
        self._tempdir = tempfile.TemporaryDirectory(prefix="incident-operator-")
        self.server = info.server.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.server,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            verify=ssl_context(info, self._tempdir.name),
            headers={**info.as_http_headers(), "User-Agent": "incident-operator"},
            trust_env=info.trust_env,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
        self._tempdir.cleanup()

    @staticmethod
    def _collection(plural: str, namespace: str | None = None) -> str:
        if namespace is None:
            return f"/apis/{GROUP}/{VERSION}/{plural}"
        return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}"

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> httpx.Response:
        try:
            response = await self._client.request(
                method, path, json=json, params=params, headers={"Content-Type": content_type}
            )
        except httpx.TransportError as error:
            raise KubeError(f"{method} {path}: {type(error).__name__}: {error}") from error
        if response.status_code >= 500 or response.status_code in (401, 403, 429):
            raise KubeError(f"{method} {path} answered {response.status_code}: {response.text}")
        return response

    async def get_object(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or ``None`` if there is no such object."""
        response = await self._request("GET", f"{self._collection(plural, namespace)}/{name}")
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise KubeError(f"reading {plural} {namespace}/{name}: {response.text}")
        found: dict[str, Any] = response.json()
        return found

    async def list_objects(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every object of the kind in ``namespace`` (all namespaces for ``None``), following
        ``continue`` tokens; none when the API server does not serve the kind (404)."""
        items: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": "500"}
        while True:
            response = await self._request(
                "GET", self._collection(plural, namespace), params=params
            )
            if response.status_code == 404:
                return items
            if response.status_code >= 400:
                raise KubeError(f"listing {plural} answered {response.status_code}")
            data = response.json()
            items.extend(data.get("items") or [])
            token = (data.get("metadata") or {}).get("continue")
            if not token:
                return items
            params = {"limit": "500", "continue": token}

    async def create_object(self, plural: str, obj: Mapping[str, Any]) -> bool:
        """Create the object; ``False`` if it already exists (409), which is fine."""
        namespace = obj["metadata"]["namespace"]
        response = await self._request("POST", self._collection(plural, namespace), json=obj)
        if response.status_code == 409:
            return False
        if response.status_code >= 400:
            raise ObjectRejected(f"creating {obj['metadata']['name']}: {response.text}")
        return True

    async def patch_status(
        self, plural: str, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None:
        """Merge-patch the status subresource (``ObjectGone`` when there is no such object)."""
        response = await self._request(
            "PATCH",
            f"{self._collection(plural, namespace)}/{name}/status",
            json={"status": dict(status)},
            content_type="application/merge-patch+json",
        )
        if response.status_code == 404:
            raise ObjectGone(f"{namespace}/{name}")
        if response.status_code >= 400:
            raise ObjectRejected(f"patching {namespace}/{name}/status: {response.text}")
