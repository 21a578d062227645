from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select
from sqlmodel import col

from incident_platform.alert.batching import batcher_for
from incident_platform.alert.correlation import AlertSignal
from incident_platform.alert.fingerprint import derive_fingerprint
from incident_platform.alert.models import (
    Alert,
    AlertCreate,
    AlertPublic,
    AlertsPublic,
    AlertStatus,
    IngestResult,
)
from incident_platform.api.deps import (
    EngineDep,
    GenericIntegrationDep,
    SessionDep,
    SettingsDep,
    ViewerDep,
)
from incident_platform.api.errors import query_error
from incident_platform.incident.store import InvalidCursor, decode_cursor, encode_cursor
from incident_platform.storable import StorableStr

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=IngestResult)
async def post_alert(
    body: AlertCreate, integration: GenericIntegrationDep, engine: EngineDep, settings: SettingsDep
) -> IngestResult:
    signal = AlertSignal(
        fingerprint=body.fingerprint or derive_fingerprint(body.service, body.summary, body.labels),
        service=body.service,
        summary=body.summary,
        severity=body.severity,
        status=body.status,
        source=body.source,
        description=body.description,
        labels=body.labels,
        annotations=body.annotations,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        integration_id=integration.id,
    )
    # Answered once the transaction holding the alert (shared with concurrent requests)
    # committed.
    [outcome] = await batcher_for(engine, settings).submit(
        [signal],
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
    query = select(Alert)
    if service is not None:
        query = query.where(col(Alert.service) == service)
    if status_ is not None:
        query = query.where(col(Alert.status) == status_.value)
    if cursor is not None:
        try:
            query = query.where(col(Alert.id) < decode_cursor(cursor))
        except InvalidCursor as error:
            raise query_error("cursor", str(error)) from error
    rows = list(session.execute(query.order_by(col(Alert.id).desc()).limit(limit + 1)).scalars())
    next_cursor = encode_cursor(rows[limit - 1].id or 0) if len(rows) > limit else None
    data = [AlertPublic.model_validate(row, from_attributes=True) for row in rows[:limit]]
    return AlertsPublic(data=data, count=len(data), next_cursor=next_cursor)
