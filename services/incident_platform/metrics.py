"""Prometheus metrics, correct when several worker processes serve.

Counters and histograms use prometheus-client's multiprocess mode when
``PROMETHEUS_MULTIPROC_DIR`` is set (the runner sets it for multi-worker
services), so every worker's observations sum into one scrape. The open
incident gauge is read from PostgreSQL at scrape time, so it is right after a
restart and the same whichever worker answers.
"""

import logging
import os
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import Engine, text

logger = logging.getLogger(__name__)

# From ten seconds (a responder at the keyboard) to a day (a forgotten incident).
INCIDENT_DURATION_BUCKETS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)

TIME_TO_ACKNOWLEDGE = Histogram(
    "incident_time_to_acknowledge_seconds",
    "Seconds from an incident opening to its acknowledgement.",
    ["service", "severity"],
    buckets=INCIDENT_DURATION_BUCKETS,
)
TIME_TO_RESOLVE = Histogram(
    "incident_time_to_resolve_seconds",
    "Seconds from an incident opening to its resolution.",
    ["service", "severity"],
    buckets=INCIDENT_DURATION_BUCKETS,
)
ALERTS_RECEIVED = Counter(
    "alerts_received_total",
    "Alerts received, by sender kind and what correlation did with them.",
    ["source", "action"],
)
REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route template.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def observe_acknowledged(
    service: str, severity: str, created_at: datetime, acknowledged_at: datetime
) -> None:
    seconds = max((acknowledged_at - created_at).total_seconds(), 0.0)
    TIME_TO_ACKNOWLEDGE.labels(service=service, severity=severity).observe(seconds)


def observe_resolved(
    service: str, severity: str, created_at: datetime, resolved_at: datetime
) -> None:
    seconds = max((resolved_at - created_at).total_seconds(), 0.0)
    TIME_TO_RESOLVE.labels(service=service, severity=severity).observe(seconds)


class OpenIncidentsCollector(Collector):
    """``incidents_open{service,severity,status}`` straight from the database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "incidents_open",
            "Incidents currently open (triggered or acknowledged).",
            labels=["service", "severity", "status"],
        )
        up = GaugeMetricFamily(
            "platform_database_up", "1 when the last scrape could read the database."
        )
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT service, severity, status, count(*) FROM incidents"
                        " WHERE status IN ('triggered', 'acknowledged')"
                        " GROUP BY service, severity, status"
                    )
                ).all()
        except Exception as error:  # a scrape must not fail because the database is down
            logger.warning("incidents_open not collected: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        for service, severity, status, count in rows:
            gauge.add_metric([service, severity, status], count)
        up.add_metric([], 1)
        yield gauge
        yield up


def render_metrics(engine: Engine | None) -> bytes:
    """The exposition for one scrape: every worker's series, plus database-backed gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    if engine is not None:
        extra = CollectorRegistry()
        extra.register(OpenIncidentsCollector(engine))
        output += generate_latest(extra)
    return output


# Notification delivery (the on-call outbox). outcome: sent | retry | failed.
NOTIFICATIONS_SENT = Counter(
    "notifications_sent_total",
    "Notification delivery attempts, by channel and outcome (sent, retry, failed).",
    ["channel", "outcome"],
)
# Failed delivery attempts (retried or given up), by channel and a short reason
# (http_status, timeout, connection, invalid_address, smtp, incident_gone, internal ...).
NOTIFICATION_ERRORS = Counter(
    "notification_errors_total",
    "Notification delivery attempts that did not succeed, by channel and reason.",
    ["channel", "reason"],
)
# From a tenth of a second (paged straight away) to an hour (paging is broken).
FIRST_NOTIFICATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
FIRST_NOTIFICATION_LATENCY = Histogram(
    "incident_first_notification_seconds",
    "Seconds from an incident opening to its first successfully sent notification.",
    ["service", "severity"],
    buckets=FIRST_NOTIFICATION_BUCKETS,
)
