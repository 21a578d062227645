"""HTTP client of the platform services, and how their answers become kopf outcomes.

Every failure is mapped, on purpose, to one of kopf's two error kinds:

* **5xx, 429, connection errors and timeouts** mean "the platform cannot answer right now":
  :class:`PlatformUnavailable`, a ``kopf.TemporaryError`` whose ``delay`` is the service's
  ``Retry-After`` when it sends one (the services send it with every 503), else an exponential
  backoff. kopf retries the handler after that delay, so a platform outage heals by itself
  without a tight retry loop.
* **4xx** means "this request will never succeed as it is": a ``422`` is a spec the platform
  refuses (e.g. a blank summary), a ``409`` an illegal incident transition, ``404`` an unknown
  incident, ``401``/``403`` credentials that are wrong (they are read once at start-up, so only a
  restart with a fixed Secret helps; resume handlers then deliver again). These are
  :class:`PlatformRejected`, a ``kopf.PermanentError`` carrying the service's own message: kopf
  does not retry it, so a bad object cannot cause a retry storm; the handlers put the message
  in the object's status where ``kubectl`` shows it.
"""

from __future__ import annotations

import email.utils
import math
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import kopf
from pydantic import BaseModel, ConfigDict

from incident_operator.settings import Config

Action = Literal["created", "attached", "deduplicated", "resolved", "ignored", "silenced"]
IncidentState = Literal["triggered", "acknowledged", "resolved"]
Transition = Literal["acknowledge", "resolve"]


class IngestResult(BaseModel):
    """The answer of ``POST /api/v1/alerts``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    alert_id: int | None
    incident_id: int | None
    action: Action


class PlatformIncident(BaseModel):
    """One incident as the incident management service returns it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int
    title: str
    service: str
    severity: Literal["critical", "high", "warning", "info"]
    status: IncidentState
    alert_count: int
    change_seq: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    assignee: str | None = None
    time_to_acknowledge_seconds: float | None = None
    time_to_resolve_seconds: float | None = None


class PlatformUnavailable(kopf.TemporaryError):
    """The platform could not answer; retry after :attr:`delay` seconds."""


class PlatformRejected(kopf.PermanentError):
    """The platform refused the request; retrying the same request cannot help."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class IllegalTransition(PlatformRejected):
    """``409``: the incident is not in a state the transition may start from.

    ``repeated``: the platform says the incident already is where the transition leads
    (its lifecycle rule ``is_repeated``), so the request is fulfilled.
    """

    def __init__(self, message: str, *, current: str | None, repeated: bool = False) -> None:
        super().__init__(message, status_code=409)
        self.current = current
        self.repeated = repeated


def backoff_delay(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff: ``base``, ``2*base``, ``4*base`` ... at most ``cap``."""
    return float(min(cap, base * 2 ** min(max(attempt, 0), 30)))


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date; ``None`` if absent/bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def error_message(response: httpx.Response) -> str:
    """The service's own explanation: FastAPI's ``detail`` (a text, an object or a list)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or f"HTTP {response.status_code}"
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
        return str(detail["message"])
    if isinstance(detail, list):  # request validation errors: name each field
        parts = []
        for item in detail:
            if not isinstance(item, dict):
                parts.append(str(item))
                continue
            location = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path")]
            field = ".".join(location)
            message = str(item.get("msg", "invalid"))
            parts.append(f"{field}: {message}" if field else message)
        return "; ".join(parts) or f"HTTP {response.status_code}"
    return str(detail)


def error_for(
    response: httpx.Response, *, attempt: int, base_delay: float, max_delay: float
) -> kopf.TemporaryError | kopf.PermanentError | None:
    """The kopf error an HTTP answer stands for, or ``None`` for a success."""
    status = response.status_code
    if status < 400:
        return None
    service = f"{response.request.method} {response.request.url.path}"
    if status == 429 or status >= 500:
        delay = retry_after_seconds(response.headers.get("retry-after"))
        if delay is None:
            delay = backoff_delay(attempt, base=base_delay, cap=max_delay)
        return PlatformUnavailable(
            f"{service} answered {status}: {error_message(response)}", delay=max(delay, 1.0)
        )
    message = error_message(response)
    if status == 409:
        current = None
        try:
            detail = response.json().get("detail")
        except (ValueError, AttributeError):
            detail = None
        if isinstance(detail, dict) and isinstance(detail.get("status"), str):
            current = str(detail["status"])
        repeated = isinstance(detail, dict) and detail.get("repeated") is True
        return IllegalTransition(message, current=current, repeated=repeated)
    return PlatformRejected(message, status_code=status)


class PlatformClient:
    """The two services, each with its own credential, timeouts and error mapping."""

    def __init__(self, config: Config, *, transport: httpx.AsyncBaseTransport | None = None):
        self._config = config
        timeout = httpx.Timeout(
            config.http_timeout_seconds, connect=min(config.http_timeout_seconds, 5.0)
        )
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=10)
        key = config.platform_integration_key.get_secret_value()
        token = config.platform_api_token.get_secret_value()
        self._ingestion = httpx.AsyncClient(
            base_url=config.alert_ingestion_url,
            timeout=timeout,
            limits=limits,
            transport=transport,
            headers={"Authorization": f"Bearer {key}", "User-Agent": "incident-operator"},
        )
        self._incidents = httpx.AsyncClient(
            base_url=config.incident_management_url,
            timeout=timeout,
            limits=limits,
            transport=transport,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "incident-operator"},
        )

    async def aclose(self) -> None:
        await self._ingestion.aclose()
        await self._incidents.aclose()

    async def _call(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        *,
        attempt: int,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            response = await client.request(method, path, json=json, params=params)
        except httpx.TransportError as error:  # refused, reset, DNS, timeouts
            delay = backoff_delay(
                attempt,
                base=self._config.retry_delay_seconds,
                cap=self._config.max_retry_delay_seconds,
            )
            raise PlatformUnavailable(
                f"{method} {client.base_url}{path} failed: {type(error).__name__}: {error}",
                delay=delay,
            ) from error
        failure = error_for(
            response,
            attempt=attempt,
            base_delay=self._config.retry_delay_seconds,
            max_delay=self._config.max_retry_delay_seconds,
        )
        if failure is not None:
            raise failure
        return response.json() if response.content else None

    async def send_alert(self, body: Mapping[str, Any], *, attempt: int = 0) -> IngestResult:
        data = await self._call(
            self._ingestion, "POST", "/api/v1/alerts", attempt=attempt, json=body
        )
        return IngestResult.model_validate(data)

    async def incident(self, incident_id: int, *, attempt: int = 0) -> PlatformIncident:
        data = await self._call(
            self._incidents, "GET", f"/api/v1/incidents/{incident_id}", attempt=attempt
        )
        return PlatformIncident.model_validate(data)

    async def transition(
        self, incident_id: int, transition: Transition, *, attempt: int = 0
    ) -> PlatformIncident:
        data = await self._call(
            self._incidents,
            "POST",
            f"/api/v1/incidents/{incident_id}/{transition}",
            attempt=attempt,
        )
        return PlatformIncident.model_validate(data)

    async def add_note(self, incident_id: int, text: str, *, attempt: int = 0) -> None:
        await self._call(
            self._incidents,
            "POST",
            f"/api/v1/incidents/{incident_id}/notes",
            attempt=attempt,
            json={"text": text},
        )

    async def changed_incidents(
        self, after: int, limit: int, *, attempt: int = 0
    ) -> list[PlatformIncident]:
        """The change feed: incidents changed after ``after``, oldest change first."""
        data = await self._call(
            self._incidents,
            "GET",
            "/api/v1/incidents",
            attempt=attempt,
            params={"changed_after": after, "limit": limit},
        )
        return [PlatformIncident.model_validate(item) for item in data["data"]]


# --- The on-call service (OnCallSchedule and EscalationPolicy objects) -------------------------

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


def _segment(value: str) -> str:
    """An id as one URL path segment (ids come from object status, which people can edit)."""
    return urllib.parse.quote(value, safe="")


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


class OnCallClient:
    """The on-call service with the operator's admin token (``ONCALL_API_TOKEN``).

    Errors are mapped as for the other services (5xx/429/outage -> :class:`PlatformUnavailable`
    honouring ``Retry-After``; 4xx -> :class:`PlatformRejected`), with the answers the sync
    acts on told apart: :class:`OnCallNotFound`, :class:`OnCallInUse`,
    :class:`OnCallNameRefused`.
    """

    def __init__(self, config: Config, *, transport: httpx.AsyncBaseTransport | None = None):
        if config.oncall_api_token is None:
            raise ValueError("ONCALL_API_TOKEN is not set: on-call sync is off")
        self._config = config
        token = config.oncall_api_token.get_secret_value()
        self._client = httpx.AsyncClient(
            base_url=config.oncall_url,
            timeout=httpx.Timeout(
                config.http_timeout_seconds, connect=min(config.http_timeout_seconds, 5.0)
            ),
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
            transport=transport,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "incident-operator"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        attempt: int,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            response = await self._client.request(method, path, json=json)
        except httpx.TransportError as error:
            delay = backoff_delay(
                attempt,
                base=self._config.retry_delay_seconds,
                cap=self._config.max_retry_delay_seconds,
            )
            raise PlatformUnavailable(
                f"{method} {self._client.base_url}{path} failed: {type(error).__name__}: {error}",
                delay=delay,
            ) from error
        failure = error_for(
            response,
            attempt=attempt,
            base_delay=self._config.retry_delay_seconds,
            max_delay=self._config.max_retry_delay_seconds,
        )
        if isinstance(failure, PlatformRejected):
            if failure.status_code == 404:
                raise OnCallNotFound(failure.message) from None
            if failure.status_code == 409:
                raise OnCallInUse(failure.message) from None
            if failure.status_code == 422 and _refuses_name(response):
                raise OnCallNameRefused(failure.message) from None
        if failure is not None:
            raise failure
        return response.json() if response.content else None

    async def users(self, *, attempt: int = 0) -> list[dict[str, Any]]:
        """Every user (``id``, ``name``, ``email`` ...): what references are resolved with."""
        data = await self._call("GET", "/api/v1/users", attempt=attempt)
        return list(data["data"])

    async def list_all(self, collection: OnCallCollection, *, attempt: int = 0) -> list[Any]:
        data = await self._call("GET", f"/api/v1/{collection}", attempt=attempt)
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
        created: dict[str, Any] = await self._call(
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
        replaced: dict[str, Any] = await self._call(
            "PUT", f"/api/v1/{collection}/{_segment(item_id)}", attempt=attempt, json=body
        )
        return replaced

    async def delete(self, collection: OnCallCollection, item_id: str, *, attempt: int = 0) -> bool:
        """Delete it; ``False`` if it was gone already (404)."""
        try:
            await self._call("DELETE", f"/api/v1/{collection}/{_segment(item_id)}", attempt=attempt)
        except OnCallNotFound:
            return False
        return True

    async def oncall_now(self, schedule_id: str, *, attempt: int = 0) -> dict[str, Any]:
        """``GET /api/v1/schedules/{id}/oncall``: who is on call now (``user`` may be null)."""
        found: dict[str, Any] = await self._call(
            "GET", f"/api/v1/schedules/{_segment(schedule_id)}/oncall", attempt=attempt
        )
        return found
