"""The incident platform's Kubernetes operator (kopf).

* ``Alert`` objects are sent to the alert ingestion service (:mod:`.alert`);
* every platform incident is mirrored as an ``Incident`` object, following the incident
  change feed (:mod:`.feed`); setting ``spec.state`` on one acknowledges or resolves the
  incident (:mod:`.incident`).

Run it with ``kopf run --standalone --all-namespaces -m incident_operator.main`` (``make
operator``). ``--module=incident_operator`` works too: importing the package loads
:mod:`.main`, which registers the handlers.
"""

from incident_operator import main as main

__all__ = ["main"]
