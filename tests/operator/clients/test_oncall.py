"""The on-call service's client tells apart the answers the sync acts on."""

from __future__ import annotations

import httpx
import pytest

from incident_operator.clients.core import PlatformRejected, PlatformUnavailable
from incident_operator.clients.oncall import (
    OnCallClient,
    OnCallInUse,
    OnCallNameRefused,
    OnCallNotFound,
)
from incident_operator.settings import Config


@pytest.mark.asyncio
async def test_the_client_tells_the_answers_the_sync_acts_on_apart() -> None:
    answers: dict[str, httpx.Response] = {
        "/api/v1/schedules/gone": httpx.Response(404, json={"detail": "schedule gone"}),
        "/api/v1/schedules/used": httpx.Response(
            409, json={"detail": {"message": "schedule 'x' is used by escalation policy p"}}
        ),
        "/api/v1/schedules": httpx.Response(
            422,
            json={"detail": [{"loc": ["body", "name"], "msg": "taken", "type": "value_error"}]},
        ),
        "/api/v1/escalation-policies": httpx.Response(
            422,
            json={"detail": [{"loc": ["body", "repeat"], "msg": "bad", "type": "value_error"}]},
        ),
        "/api/v1/users": httpx.Response(503, headers={"Retry-After": "7"}, json={"detail": "db"}),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        return answers[request.url.path]

    config = Config(
        platform_integration_key="k", platform_api_token="t", oncall_api_token="ipt_a-x"
    )
    client = OnCallClient(config, transport=httpx.MockTransport(answer))
    try:
        assert await client.delete("schedules", "gone") is False
        with pytest.raises(OnCallNotFound):
            await client.replace("schedules", "gone", {})
        with pytest.raises(OnCallInUse, match="used by escalation policy p"):
            await client.delete("schedules", "used")
        with pytest.raises(OnCallNameRefused, match="name: taken"):
            await client.create("schedules", {})
        with pytest.raises(PlatformRejected) as rejected:
            await client.create("escalation-policies", {})
        assert type(rejected.value) is PlatformRejected
        with pytest.raises(PlatformUnavailable) as unavailable:
            await client.users()
        assert unavailable.value.delay == 7
    finally:
        await client.aclose()
    with pytest.raises(ValueError, match="ONCALL_API_TOKEN"):
        OnCallClient(Config(platform_integration_key="k", platform_api_token="t"))
