"""Names vulture cannot see used: fields of wire formats, enum members stored as data,
and methods that frameworks call by name. Read by ``make lint`` (``[tool.vulture]``)."""

from typing import Any

_: Any = None

# Alertmanager's webhook body (v4) and API v2 status: accepted or answered as sent.
_.groupLabels
_.commonLabels
_.commonAnnotations
_.externalURL
_.groupKey
_.truncatedAlerts
_.peers
_.original
_.buildDate
_.buildUser
_.goVersion
_.uptime
_.versionInfo
_.updatedAt
_.silenceID

# Fields of API answers, filled from attributes of the same name.
_.last_seen_at
_.key_masked
_.token_masked
_.addresses
_.escalation_policy

# Enum members written as data (SQL text, stored rows) rather than named in Python.
_.ALERT_ATTACHED
_.ALERT_RESOLVED
_.AUTO_RESOLVED
_.FLAPPING_STARTED
_.FLAPPING_STOPPED
_.CANCELLED
_.SATURDAY

# Called by the standard library, aiosmtpd and re2 by name.
_.do_POST
_.do_GET
_.do_PUT
_.do_PATCH
_.do_DELETE
_.log_message
_.daemon_threads
_.protocol_version
_.handle_RCPT
_.handle_DATA
_.log_errors
_.raw_headers

# kopf's settings, set by attribute.
_.finalizer

# PagerDuty's client refuses a non-https base URL: the tests point it at loopback.
_._url

# Reported in assertion messages through the dataclass's repr.
_.panel_type
