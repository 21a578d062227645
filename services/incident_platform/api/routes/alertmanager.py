import logging

from fastapi import APIRouter, status

from incident_platform.alert.alertmanager import AlertmanagerPayload, split_alerts, to_signal
from incident_platform.alert.batching import batcher_for
from incident_platform.alert.correlation import IngestAction
from incident_platform.alert.models import BatchIngestResult, IngestResults
from incident_platform.api.deps import AlertmanagerIntegrationDep, EngineDep, SettingsDep
from incident_platform.metrics import ALERTS_RECEIVED

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/integrations/alertmanager", tags=["alertmanager"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=IngestResults)
async def alertmanager_webhook(
    payload: AlertmanagerPayload,
    integration: AlertmanagerIntegrationDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> IngestResults:
    """Prometheus Alertmanager webhook receiver (payload version 4). A notification's alerts
    commit together, in one transaction with concurrent requests' alerts.

    ``results`` has one entry per alert, in order. An invalid alert is ``rejected`` with
    its ``reason`` and the others are stored all the same (202); only an invalid envelope
    (no ``alerts`` list) refuses the whole notification with 422.
    """
    split = split_alerts(payload.alerts)
    outcomes = await batcher_for(engine, settings).submit(
        [to_signal(alert, integration) for _, alert in split.valid],
        source="alertmanager",
        actor=f"integration:{integration.name}",
        auto_resolve=settings.auto_resolve,
    )
    results = {
        index: BatchIngestResult(
            alert_id=None, incident_id=None, action=IngestAction.REJECTED, reason=reason
        )
        for index, reason in split.rejected.items()
    }
    for (index, _), outcome in zip(split.valid, outcomes, strict=True):
        results[index] = BatchIngestResult(
            alert_id=outcome.alert_id, incident_id=outcome.incident_id, action=outcome.action
        )
    if split.rejected:
        ALERTS_RECEIVED.labels(source="alertmanager", action=IngestAction.REJECTED.value).inc(
            len(split.rejected)
        )
        logger.warning(
            "alertmanager notification from %s: %d of %d alerts rejected (first: %s)",
            integration.name,
            len(split.rejected),
            len(payload.alerts),
            next(iter(split.rejected.values())),
        )
    return IngestResults(results=[results[index] for index in range(len(payload.alerts))])
