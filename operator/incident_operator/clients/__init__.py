"""HTTP clients of the platform's services, over one core (:mod:`.core`).

* :mod:`.core`: one service behind one base URL and credential, and how its answers become
  kopf outcomes (``PermanentError`` vs ``TemporaryError``);
* :mod:`.platform`: the alert ingestion service (alerts with the integration key, silences
  with the responder token) and the incident management service;
* :mod:`.oncall`: the on-call service (schedules, escalation policies) with an admin token.
"""
