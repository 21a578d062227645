"""The incident platform's Kubernetes operator (kopf). It talks to the platform's services
over HTTP only and imports nothing of theirs.

* ``Alert`` objects are sent to the alert ingestion service (:mod:`.alert`);
* every platform incident is mirrored as an ``Incident`` object, following the incident
  change feed (:mod:`.feed`); setting ``spec.state`` on one acknowledges or resolves the
  incident (:mod:`.incident`);
* ``Silence`` objects become platform silences, expired on delete (:mod:`.silence`);
* with ``ONCALL_API_TOKEN`` set, ``OnCallSchedule`` and ``EscalationPolicy`` objects are synced
  to the on-call service (:mod:`.oncallschedule`, :mod:`.escalationpolicy`, sharing
  :mod:`.oncall_sync`).

Handlers are typed module-level functions named ``<kind>_<event>``; the pure builders of
requests and status patches are in :mod:`.builders`, the HTTP clients in :mod:`.clients`,
the CRD names in :mod:`.crd`.

Run it with ``kopf run --standalone --all-namespaces -m incident_operator.main`` (``make
operator``). ``--module=incident_operator`` works too: importing the package loads
:mod:`.main`, which registers the handlers.
"""

from incident_operator import main as main

__all__ = ["main"]
