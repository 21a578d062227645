"""The names of the platform's custom resources (``crds/``), in one place for every module.

The builders, the handlers' registration (:mod:`incident_operator.main`) and the Kubernetes
client (:mod:`incident_operator.kube`) all spell the group, version and plurals from here.
"""

GROUP = "incident-platform.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

ALERTS = "alerts"
INCIDENTS = "incidents"
ONCALL_SCHEDULES = "oncallschedules"
ESCALATION_POLICIES = "escalationpolicies"
SILENCES = "silences"

# The finalizer kopf puts on the objects whose deletion the operator must act on first.
FINALIZER = f"{GROUP}/operator"
# Label on the objects the operator creates itself (the Incident mirrors).
MANAGED_BY = "incident-operator"
# The longest ``message`` the CRDs accept (status and condition messages).
MAX_MESSAGE = 32768
