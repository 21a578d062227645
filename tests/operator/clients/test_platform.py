"""The platform's client: which credential goes to which API, and the silence calls' answers
(the handlers' tests run the same calls against the real services)."""

from __future__ import annotations

import httpx
import pytest

from incident_operator.clients.core import PlatformRejected, PlatformUnavailable
from incident_operator.clients.platform import PlatformClient
from incident_operator.settings import Config

SILENCE_ID = "6f1f5bd6-57c5-4d53-9b41-0f3f1d1b8d2e"


@pytest.mark.asyncio
async def test_alerts_use_the_integration_key_and_silences_the_responder_token() -> None:
    seen: list[tuple[str, str, str]] = []
    silence = {
        "id": SILENCE_ID,
        "status": {"state": "active"},
        "updatedAt": "2026-12-05T20:00:00Z",
        "matchers": [],
        "startsAt": "2026-12-05T20:00:00Z",
        "endsAt": "2026-12-05T22:00:00Z",
        "createdBy": "incident-operator",
        "comment": "x",
    }

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.headers["Authorization"]))
        if request.url.path == "/api/v1/alerts":
            return httpx.Response(
                202, json={"alert_id": 1, "incident_id": None, "action": "silenced"}
            )
        if request.method == "POST":
            return httpx.Response(200, json={"silenceID": SILENCE_ID})
        if request.url.path.endswith("/gone"):
            return httpx.Response(404, json={"detail": "no silence gone"})
        if request.url.path.endswith("/broken"):
            return httpx.Response(400, json={"detail": "bad id"})
        if request.method == "GET":
            return httpx.Response(200, json=silence)
        return httpx.Response(200)

    config = Config(
        alert_ingestion_url="http://ingestion:8001",
        platform_integration_key="the-key",
        platform_api_token="the-token",
    )
    client = PlatformClient(config, transport=httpx.MockTransport(answer))
    try:
        assert (await client.send_alert({"service": "checkout"})).action == "silenced"
        assert await client.put_silence({"matchers": []}) == SILENCE_ID
        found = await client.silence(SILENCE_ID)
        assert found is not None
        assert found.status.state == "active"
        assert await client.silence("gone") is None
        assert await client.expire_silence(SILENCE_ID) is True
        assert await client.expire_silence("gone") is False
        with pytest.raises(PlatformRejected, match="bad id"):
            await client.expire_silence("broken")
    finally:
        await client.aclose()
    assert seen[0] == ("POST", "/api/v1/alerts", "Bearer the-key")
    assert {auth for _, path, auth in seen[1:]} == {"Bearer the-token"}
    assert ("DELETE", f"/api/v2/silence/{SILENCE_ID}", "Bearer the-token") in seen


@pytest.mark.asyncio
async def test_silence_calls_map_outages_to_temporary_errors() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "4"}, json={"detail": "db"})

    config = Config(platform_integration_key="k", platform_api_token="t")
    client = PlatformClient(config, transport=httpx.MockTransport(answer))
    try:
        for call in (
            client.put_silence({}),
            client.silence(SILENCE_ID),
            client.expire_silence("x"),
        ):
            with pytest.raises(PlatformUnavailable) as unavailable:
                await call
            assert unavailable.value.delay == 4
    finally:
        await client.aclose()
