"""One platform service over HTTP, and how its answers become kopf outcomes.

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
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import kopf

from incident_operator.settings import Config


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


def path_segment(value: str) -> str:
    """An id as one URL path segment (ids come from object status, which people can edit)."""
    return urllib.parse.quote(value, safe="")


# How a client tells apart the refusals its callers act on: given the mapped refusal and the
# answer, a more specific error to raise instead (or ``None`` to raise the refusal as it is).
Refine = Callable[[PlatformRejected, httpx.Response], PlatformRejected | None]


class ServiceClient:
    """One service: its base URL, credential, timeouts, and the error mapping above."""

    def __init__(
        self,
        config: Config,
        *,
        base_url: str,
        credential: str,
        max_connections: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
        refine: Refine | None = None,
    ) -> None:
        self._config = config
        self._refine = refine
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(
                config.http_timeout_seconds, connect=min(config.http_timeout_seconds, 5.0)
            ),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections // 2
            ),
            transport=transport,
            headers={"Authorization": f"Bearer {credential}", "User-Agent": "incident-operator"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        attempt: int,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """The answer's JSON (``None`` for an empty body), or the mapped kopf error."""
        try:
            response = await self._client.request(method, path, json=json, params=params)
        except httpx.TransportError as error:  # refused, reset, DNS, timeouts
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
        if isinstance(failure, PlatformRejected) and self._refine is not None:
            refined = self._refine(failure, response)
            if refined is not None:
                raise refined from None
        if failure is not None:
            raise failure
        return response.json() if response.content else None
