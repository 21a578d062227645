"""The alert ingestion and incident management services, each with its own credential.

* alerts go to the ingestion service with the generic integration key
  (``PLATFORM_INTEGRATION_KEY``);
* silences go to the ingestion service's Alertmanager-compatible API (``/api/v2``) with the
  responder token (``PLATFORM_API_TOKEN``): integration keys may only post alerts;
* incidents (the change feed, acknowledge, resolve, notes) go to the incident management
  service with the same responder token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from incident_operator.clients.core import PlatformRejected, ServiceClient, path_segment
from incident_operator.models import IngestResult, PlatformIncident, PlatformSilence, Transition
from incident_operator.settings import Config


class PlatformClient:
    """The two services (three credentials-and-URL pairs), with one error mapping."""

    def __init__(self, config: Config, *, transport: httpx.AsyncBaseTransport | None = None):
        token = config.platform_api_token.get_secret_value()
        self._ingestion = ServiceClient(
            config,
            base_url=config.alert_ingestion_url,
            credential=config.platform_integration_key.get_secret_value(),
            transport=transport,
        )
        self._silences = ServiceClient(
            config,
            base_url=config.alert_ingestion_url,
            credential=token,
            max_connections=10,
            transport=transport,
        )
        self._incidents = ServiceClient(
            config, base_url=config.incident_management_url, credential=token, transport=transport
        )

    async def aclose(self) -> None:
        await self._ingestion.aclose()
        await self._silences.aclose()
        await self._incidents.aclose()

    async def send_alert(self, body: Mapping[str, Any], *, attempt: int = 0) -> IngestResult:
        data = await self._ingestion.call("POST", "/api/v1/alerts", attempt=attempt, json=body)
        return IngestResult.model_validate(data)

    async def incident(self, incident_id: int, *, attempt: int = 0) -> PlatformIncident:
        data = await self._incidents.call(
            "GET", f"/api/v1/incidents/{incident_id}", attempt=attempt
        )
        return PlatformIncident.model_validate(data)

    async def transition(
        self, incident_id: int, transition: Transition, *, attempt: int = 0
    ) -> PlatformIncident:
        data = await self._incidents.call(
            "POST", f"/api/v1/incidents/{incident_id}/{transition}", attempt=attempt
        )
        return PlatformIncident.model_validate(data)

    async def add_note(self, incident_id: int, text: str, *, attempt: int = 0) -> None:
        await self._incidents.call(
            "POST", f"/api/v1/incidents/{incident_id}/notes", attempt=attempt, json={"text": text}
        )

    async def changed_incidents(
        self, after: int, limit: int, *, attempt: int = 0
    ) -> list[PlatformIncident]:
        """The change feed: incidents changed after ``after``, oldest change first."""
        data = await self._incidents.call(
            "GET",
            "/api/v1/incidents",
            attempt=attempt,
            params={"changed_after": after, "limit": limit},
        )
        return [PlatformIncident.model_validate(item) for item in data["data"]]

    async def put_silence(self, body: Mapping[str, Any], *, attempt: int = 0) -> str:
        """``POST /api/v2/silences``: create (or, with ``id`` in the body, change) a silence;
        the silence's id."""
        data = await self._silences.call("POST", "/api/v2/silences", attempt=attempt, json=body)
        return str(data["silenceID"])

    async def silence(self, silence_id: str, *, attempt: int = 0) -> PlatformSilence | None:
        """The silence, or ``None`` if the platform has none with that id (any more)."""
        try:
            data = await self._silences.call(
                "GET", f"/api/v2/silence/{path_segment(silence_id)}", attempt=attempt
            )
        except PlatformRejected as error:
            if error.status_code == 404:
                return None
            raise
        return PlatformSilence.model_validate(data)

    async def expire_silence(self, silence_id: str, *, attempt: int = 0) -> bool:
        """``DELETE /api/v2/silence/{id}`` expires it; ``False`` if it was gone already."""
        try:
            await self._silences.call(
                "DELETE", f"/api/v2/silence/{path_segment(silence_id)}", attempt=attempt
            )
        except PlatformRejected as error:
            if error.status_code == 404:
                return False
            raise
        return True
