"""Alertmanager API v2 ``/status``: what amtool reads before every command."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from incident_platform.api.deps import ViewerDep
from incident_platform.clock import utc_now

router = APIRouter(prefix="/api/v2", tags=["alertmanager"])

STARTED_AT = utc_now()


class ClusterStatus(BaseModel):
    name: str | None = None
    status: str  # ready | settling | disabled
    peers: list[dict[str, str]]


class AlertmanagerConfig(BaseModel):
    original: str


class VersionInfo(BaseModel):
    branch: str
    buildDate: str
    buildUser: str
    goVersion: str
    revision: str
    version: str


class AlertmanagerStatus(BaseModel):
    cluster: ClusterStatus
    config: AlertmanagerConfig
    uptime: datetime
    versionInfo: VersionInfo


@router.get("/status", response_model=AlertmanagerStatus)
async def get_status(_: ViewerDep) -> AlertmanagerStatus:
    """No cluster (the database is the shared state) and no Alertmanager configuration:
    routing and receivers are the platform's escalation policies."""
    return AlertmanagerStatus(
        cluster=ClusterStatus(status="disabled", peers=[]),
        config=AlertmanagerConfig(original=""),
        uptime=STARTED_AT,
        versionInfo=VersionInfo(
            branch="",
            buildDate="",
            buildUser="",
            goVersion="",
            revision="",
            version="incident-platform-0.1.0",
        ),
    )
