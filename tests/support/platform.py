"""The running platform as tests see it, and small helpers to set it up over HTTP."""

from dataclasses import dataclass

import httpx

from support.services import ServiceProcess


@dataclass(frozen=True)
class Platform:
    database_url: str
    admin_token: str
    ingestion: ServiceProcess
    incidents: ServiceProcess
    oncall: ServiceProcess
    ack_signing_key: str

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


def create_integration(
    platform: Platform, kind: str, name: str | None = None, default_service: str | None = None
) -> str:
    body: dict[str, str] = {"name": name or f"{kind}-sender", "kind": kind}
    if default_service:
        body["default_service"] = default_service
    response = httpx.post(
        platform.ingestion.url + "/api/v1/integrations", json=body, headers=platform.admin()
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])
