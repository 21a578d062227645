"""The generic alert API: post an alert, list stored alerts."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from incident_platform.alert import generic
from incident_platform.alert.batching import batcher_for
from incident_platform.alert.correlation import AlertStatus
from incident_platform.alert.models import AlertCreate, AlertPublic, AlertsPublic, IngestResult
from incident_platform.alert.store import list_alerts as stored_alerts
from incident_platform.api.deps import (
    EngineDep,
    GenericIntegrationDep,
    SessionDep,
    SettingsDep,
    ViewerDep,
)
from incident_platform.api.errors import query_error
from incident_platform.paging import InvalidCursor
from incident_platform.storable import StorableStr

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=IngestResult)
async def post_alert(
    body: AlertCreate, integration: GenericIntegrationDep, engine: EngineDep, settings: SettingsDep
) -> IngestResult:
    # Answered once the transaction holding the alert (shared with concurrent requests)
    # committed.
    [outcome] = await batcher_for(engine, settings).submit(
        [generic.to_signal(body, integration)],
        source="generic",
        actor=f"integration:{integration.name}",
        auto_resolve=settings.auto_resolve,
    )
    return IngestResult(
        alert_id=outcome.alert_id, incident_id=outcome.incident_id, action=outcome.action
    )


@router.get("", response_model=AlertsPublic)
def list_alerts(
    session: SessionDep,
    _: ViewerDep,
    service: StorableStr | None = None,
    status_: Annotated[AlertStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: StorableStr | None = None,
) -> AlertsPublic:
    try:
        rows, next_cursor = stored_alerts(
            session, service=service, status=status_, limit=limit, cursor=cursor
        )
    except InvalidCursor as error:
        raise query_error("cursor", str(error)) from error
    data = [AlertPublic.model_validate(row, from_attributes=True) for row in rows]
    return AlertsPublic(data=data, count=len(data), next_cursor=next_cursor)
