"""Entry point: ``kopf run --standalone --all-namespaces -m incident_operator.main``.

Importing this module registers every handler with kopf's default registry (``kopf run``
makes that the registry it runs). The handlers themselves are plain typed functions in
:mod:`incident_operator.alert`, :mod:`incident_operator.incident` and
:mod:`incident_operator.runtime`; :func:`register` is the one place that says which event
triggers which handler, so a test can register them with a fresh ``kopf.OperatorRegistry``.
"""

from __future__ import annotations

import kopf

from incident_operator.alert import alert_create, alert_delete, alert_resume, alert_update
from incident_operator.builders import ALERTS, GROUP, INCIDENTS, VERSION
from incident_operator.incident import incident_state_changed
from incident_operator.runtime import (
    operator_cleanup,
    operator_login,
    operator_probe,
    operator_startup,
)


def register(registry: kopf.OperatorRegistry) -> None:
    """Register every handler of the operator with ``registry``."""
    kopf.on.startup(registry=registry)(operator_startup)
    kopf.on.cleanup(registry=registry)(operator_cleanup)
    kopf.on.login(registry=registry)(operator_login)
    kopf.on.probe(id="incidentFeed", registry=registry)(operator_probe)

    # Alerts: each spec change is delivered; a delete resolves first (kopf's finalizer).
    kopf.on.create(GROUP, VERSION, ALERTS, registry=registry)(alert_create)
    kopf.on.update(GROUP, VERSION, ALERTS, field="spec", registry=registry)(alert_update)
    kopf.on.resume(GROUP, VERSION, ALERTS, registry=registry)(alert_resume)
    kopf.on.delete(GROUP, VERSION, ALERTS, registry=registry)(alert_delete)

    # Incidents: only a change of the requested state acts; the status is the feed's.
    # No resume handler on purpose: re-sending an old request after a restart could
    # contradict what happened on the platform since.
    for on_event in (kopf.on.create, kopf.on.update):
        on_event(GROUP, VERSION, INCIDENTS, field="spec.state", registry=registry)(
            incident_state_changed
        )


register(kopf.get_default_registry())
