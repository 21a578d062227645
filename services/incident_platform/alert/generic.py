"""The generic alert API (``POST /api/v1/alerts``) to alert signals.

A sender that gives no fingerprint gets one derived from the service, the summary
and the labels, so the same alert sent again deduplicates.
"""

from incident_platform.alert.correlation import AlertSignal
from incident_platform.alert.fingerprint import derive_fingerprint
from incident_platform.alert.models import AlertCreate
from incident_platform.auth.rules import IntegrationIdentity


def to_signal(body: AlertCreate, integration: IntegrationIdentity) -> AlertSignal:
    return AlertSignal(
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
