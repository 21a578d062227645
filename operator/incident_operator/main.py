"""Entry point: ``kopf run --standalone --all-namespaces -m incident_operator.main``.

Importing this module registers every handler with kopf's default registry (``kopf run``
makes that the registry it runs). The handlers themselves are plain typed functions, one
module per kind (:mod:`incident_operator.alert`, :mod:`~incident_operator.incident`,
:mod:`~incident_operator.silence`, :mod:`~incident_operator.oncallschedule`,
:mod:`~incident_operator.escalationpolicy`), plus the operator-level ones in
:mod:`incident_operator.runtime` and :mod:`incident_operator.oncall`; :func:`register` is the
one place that says which event triggers which handler, so a test can register them with a
fresh ``kopf.OperatorRegistry``.
"""

from __future__ import annotations

import kopf

from incident_operator.alert import alert_create, alert_delete, alert_resume, alert_update
from incident_operator.crd import (
    ALERTS,
    ESCALATION_POLICIES,
    GROUP,
    INCIDENTS,
    ONCALL_SCHEDULES,
    SILENCES,
    VERSION,
)
from incident_operator.escalationpolicy import (
    escalationpolicy_create,
    escalationpolicy_delete,
    escalationpolicy_resume,
    escalationpolicy_update,
)
from incident_operator.incident import incident_state_changed
from incident_operator.oncall import oncall_cleanup, oncall_startup, oncall_sync_off
from incident_operator.oncallschedule import (
    oncallschedule_create,
    oncallschedule_delete,
    oncallschedule_resume,
    oncallschedule_update,
)
from incident_operator.runtime import (
    operator_cleanup,
    operator_login,
    operator_probe,
    operator_startup,
)
from incident_operator.settings import oncall_sync_enabled, silence_refresh_seconds
from incident_operator.silence import (
    silence_create,
    silence_delete,
    silence_refresh,
    silence_resume,
    silence_update,
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

    # Silences: synced like alerts; a delete expires first (the finalizer); a timer reads
    # the state back (windows start and end without any Kubernetes event).
    silences = (GROUP, VERSION, SILENCES)
    kopf.on.create(*silences, registry=registry)(silence_create)
    kopf.on.update(*silences, field="spec", registry=registry)(silence_update)
    kopf.on.resume(*silences, registry=registry)(silence_resume)
    kopf.on.delete(*silences, registry=registry)(silence_delete)
    kopf.timer(*silences, interval=silence_refresh_seconds(), registry=registry)(silence_refresh)

    # On-call as code: only with ONCALL_API_TOKEN set (else one log line says sync is off).
    if not oncall_sync_enabled():
        kopf.on.startup(registry=registry)(oncall_sync_off)
        return
    kopf.on.startup(registry=registry)(oncall_startup)  # runs after operator_startup
    kopf.on.cleanup(registry=registry)(oncall_cleanup)
    schedules = (GROUP, VERSION, ONCALL_SCHEDULES)
    kopf.on.create(*schedules, registry=registry)(oncallschedule_create)
    kopf.on.update(*schedules, field="spec", registry=registry)(oncallschedule_update)
    kopf.on.resume(*schedules, registry=registry)(oncallschedule_resume)
    kopf.on.delete(*schedules, registry=registry)(oncallschedule_delete)
    policies = (GROUP, VERSION, ESCALATION_POLICIES)
    kopf.on.create(*policies, registry=registry)(escalationpolicy_create)
    kopf.on.update(*policies, field="spec", registry=registry)(escalationpolicy_update)
    kopf.on.resume(*policies, registry=registry)(escalationpolicy_resume)
    kopf.on.delete(*policies, registry=registry)(escalationpolicy_delete)


register(kopf.get_default_registry())
