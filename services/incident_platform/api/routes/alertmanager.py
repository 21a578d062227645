from fastapi import APIRouter, status

from incident_platform.alert.alertmanager import AlertmanagerPayload, to_signal
from incident_platform.alert.ingest import ingest_and_record
from incident_platform.alert.models import IngestResult, IngestResults
from incident_platform.api.deps import AlertmanagerIntegrationDep, EngineDep, SettingsDep

router = APIRouter(prefix="/api/v1/integrations/alertmanager", tags=["alertmanager"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=IngestResults)
def alertmanager_webhook(
    payload: AlertmanagerPayload,
    integration: AlertmanagerIntegrationDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> IngestResults:
    """Prometheus Alertmanager webhook receiver (payload version 4). One transaction per call."""
    signals = [to_signal(alert, integration) for alert in payload.alerts]
    batch = ingest_and_record(
        engine,
        signals,
        source="alertmanager",
        actor=f"integration:{integration.name}",
        auto_resolve=settings.auto_resolve,
    )
    return IngestResults(
        results=[
            IngestResult(alert_id=o.alert_id, incident_id=o.incident_id, action=o.action)
            for o in batch.outcomes
        ]
    )
