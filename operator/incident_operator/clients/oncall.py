"""The on-call service (OnCallSchedule and EscalationPolicy objects) with the operator's admin
token (``ONCALL_API_TOKEN``).

Errors are mapped as for the other services (:mod:`incident_operator.clients.core`:
5xx/429/outage -> ``PlatformUnavailable`` honouring ``Retry-After``; 4xx ->
``PlatformRejected``), with the answers the sync acts on told apart: :class:`OnCallNotFound`,
:class:`OnCallInUse`, :class:`OnCallNameRefused`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import httpx

from incident_operator.clients.core import PlatformRejected, ServiceClient, path_segment
from incident_operator.settings import Config

OnCallCollection = Literal["schedules", "escalation-policies"]


class OnCallNotFound(PlatformRejected):
    """``404``: the schedule or policy does not exist (any more) in the on-call service."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status_code=404)


class OnCallInUse(PlatformRejected):
    """``409``: something else still uses it (a policy uses the schedule, a service is routed
    to the policy); the message names who."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status_code=409)


class OnCallNameRefused(PlatformRejected):
    """``422`` on ``name``: most often the name is taken (e.g. the object was created before
    its id reached the status); the caller checks by listing."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status_code=422)


def _refuses_name(response: httpx.Response) -> bool:
    """Does a 422 answer name the body's ``name`` field (FastAPI's ``detail[].loc``)?"""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return False
    return isinstance(detail, list) and any(
        isinstance(item, dict) and list(item.get("loc") or []) == ["body", "name"]
        for item in detail
    )


def oncall_refusal(failure: PlatformRejected, response: httpx.Response) -> PlatformRejected | None:
    """The on-call refusal a 4xx stands for (``None``: keep the plain refusal)."""
    if failure.status_code == 404:
        return OnCallNotFound(failure.message)
    if failure.status_code == 409:
        return OnCallInUse(failure.message)
    if failure.status_code == 422 and _refuses_name(response):
        return OnCallNameRefused(failure.message)
    return None


class OnCallClient:
    """Users, schedules and escalation policies of the on-call service."""

    def __init__(self, config: Config, *, transport: httpx.AsyncBaseTransport | None = None):
        if config.oncall_api_token is None:
            raise ValueError("ONCALL_API_TOKEN is not set: on-call sync is off")
        self._service = ServiceClient(
            config,
            base_url=config.oncall_url,
            credential=config.oncall_api_token.get_secret_value(),
            max_connections=10,
            transport=transport,
            refine=oncall_refusal,
        )

    async def aclose(self) -> None:
        await self._service.aclose()

    async def users(self, *, attempt: int = 0) -> list[dict[str, Any]]:
        """Every user (``id``, ``name``, ``email`` ...): what references are resolved with."""
        data = await self._service.call("GET", "/api/v1/users", attempt=attempt)
        return list(data["data"])

    async def list_all(self, collection: OnCallCollection, *, attempt: int = 0) -> list[Any]:
        data = await self._service.call("GET", f"/api/v1/{collection}", attempt=attempt)
        return list(data["data"])

    async def find_by_name(
        self, collection: OnCallCollection, name: str, *, attempt: int = 0
    ) -> dict[str, Any] | None:
        """The schedule or policy called ``name`` (names are unique in the service)."""
        for item in await self.list_all(collection, attempt=attempt):
            if isinstance(item, dict) and item.get("name") == name:
                return item
        return None

    async def create(
        self, collection: OnCallCollection, body: Mapping[str, Any], *, attempt: int = 0
    ) -> dict[str, Any]:
        created: dict[str, Any] = await self._service.call(
            "POST", f"/api/v1/{collection}", attempt=attempt, json=body
        )
        return created

    async def replace(
        self,
        collection: OnCallCollection,
        item_id: str,
        body: Mapping[str, Any],
        *,
        attempt: int = 0,
    ) -> dict[str, Any]:
        replaced: dict[str, Any] = await self._service.call(
            "PUT", f"/api/v1/{collection}/{path_segment(item_id)}", attempt=attempt, json=body
        )
        return replaced

    async def delete(self, collection: OnCallCollection, item_id: str, *, attempt: int = 0) -> bool:
        """Delete it; ``False`` if it was gone already (404)."""
        try:
            await self._service.call(
                "DELETE", f"/api/v1/{collection}/{path_segment(item_id)}", attempt=attempt
            )
        except OnCallNotFound:
            return False
        return True
