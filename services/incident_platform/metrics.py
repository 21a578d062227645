"""Prometheus metrics, correct when several worker processes serve.

Counters and histograms use prometheus-client's multiprocess mode when
``PROMETHEUS_MULTIPROC_DIR`` is set (the runner sets it for multi-worker
services), so every worker's observations sum into one scrape. The open
incident gauge is read from PostgreSQL at scrape time, so it is right after a
restart and the same whichever worker answers.
"""

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import Engine, event, text

from incident_platform.incident.lifecycle import OPEN_STATUSES

T = TypeVar("T")

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
INGEST_TRANSACTIONS = Counter(
    "ingest_transactions_total",
    "Transactions the ingest writer committed: alerts_received_total over this is the"
    " mean group-commit batch size.",
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
                        " WHERE status = ANY(:open) GROUP BY service, severity, status"
                    ),
                    {"open": [status.value for status in OPEN_STATUSES]},
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


class ActiveSilencesCollector(Collector):
    """``silences_active``: silences muting alerts now, straight from the database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self._engine.connect() as connection:
                active = connection.execute(
                    text(
                        "SELECT count(*) FROM silences WHERE starts_at <= now() AND ends_at > now()"
                    )
                ).scalar_one()
        except Exception as error:  # a scrape must not fail because the database is down
            logger.warning("silences_active not collected: %s", type(error).__name__)
            return
        yield GaugeMetricFamily(
            "silences_active", "Silences currently active (muting matching alerts).", value=active
        )


class FlappingIncidentsCollector(Collector):
    """``incidents_flapping``: open incidents with a flapping alert (their pages held)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self._engine.connect() as connection:
                flapping = connection.execute(
                    text(
                        "SELECT count(*) FROM incidents"
                        " WHERE flapping AND status IN ('triggered', 'acknowledged')"
                    )
                ).scalar_one()
        except Exception as error:  # a scrape must not fail because the database is down
            logger.warning("incidents_flapping not collected: %s", type(error).__name__)
            return
        yield GaugeMetricFamily(
            "incidents_flapping",
            "Open incidents with a flapping alert: they stay open and their pages are held.",
            value=flapping,
        )


def render_metrics(
    engine: Engine, scrape_collectors: Iterable[Callable[[Engine], Collector]] = ()
) -> bytes:
    """The exposition for one scrape: every worker's series, plus database-backed gauges.

    ``scrape_collectors`` are built over ``engine`` and read the database at scrape time;
    readiness (``platform_ready``) is always among them.
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(WorkerProcessCollector(directory))
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    extra = CollectorRegistry()
    for collector in (ReadinessCollector, *scrape_collectors):
        extra.register(collector(engine))
    return output + generate_latest(extra)


# Notification delivery (the on-call outbox). outcome: sent | retry | failed.
NOTIFICATIONS_SENT = Counter(
    "notifications_sent_total",
    "Notification delivery attempts, by channel and outcome (sent, retry, failed).",
    ["channel", "outcome"],
)
# The channels of notification/models.py's Channel (tests/test_metrics.py checks they agree).
NOTIFICATION_CHANNELS = ("webhook", "slack", "email")


def export_notification_outcomes() -> None:
    """Every channel and outcome at 0 from the start, in the service that notifies, so that
    increase() sees the first failure (a series created by its first increment would appear
    already at 1)."""
    for channel in NOTIFICATION_CHANNELS:
        for outcome in ("sent", "retry", "failed"):
            NOTIFICATIONS_SENT.labels(channel=channel, outcome=outcome)


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


# The escalation engine loop (escalation/runner.py). Created by the first engine that runs, so
# only processes running the engine export them (an exported 0 would read as "never ticked").
# "max" across workers: the freshest tick of any process, so one worker still ticking keeps
# the engine-stalled alert quiet.
@lru_cache
def engine_metrics() -> tuple[Gauge, Histogram]:
    last_tick = Gauge(
        "escalation_engine_last_tick_timestamp_seconds",
        "Unix time at which the escalation engine last finished a tick without error (0: not yet).",
        multiprocess_mode="max",
    )
    duration = Histogram(
        "escalation_engine_tick_duration_seconds",
        "Seconds one escalation engine tick took, failed ticks included.",
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    )
    return last_tick, duration


def timed_engine_tick(step: Callable[[], T]) -> Callable[[], T]:
    """``step`` observed as an engine tick: its duration always, its finish time on success."""
    last_tick, duration = engine_metrics()

    def tick() -> T:
        started = time.perf_counter()
        try:
            result = step()
        finally:
            duration.observe(time.perf_counter() - started)
        last_tick.set(time.time())
        return result

    return tick


# Connections each process's SQLAlchemy pool has handed out, summed over live workers.
DB_POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections currently checked out of the pool.",
    multiprocess_mode="livesum",
)
DB_POOL_CAPACITY = Gauge(
    "db_pool_connections_max",
    "Connections the pool may hand out at most (pool size plus overflow).",
    multiprocess_mode="livesum",
)


def instrument_pool(engine: Engine, capacity: int) -> None:
    """Keep ``db_pool_connections_*`` up to date from the pool's checkout and checkin events."""
    DB_POOL_CAPACITY.inc(capacity)
    event.listen(engine, "checkout", lambda *_: DB_POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: DB_POOL_IN_USE.dec())


class ReadinessCollector(Collector):
    """``platform_ready``: 1 when the service is ready as ``/readyz`` says (database, schema)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from incident_platform.db import schema_status  # db imports this module

        ready = GaugeMetricFamily(
            "platform_ready",
            "1 when the database answers and its schema is at head (as /readyz), else 0.",
        )
        ready.add_metric([], 1 if schema_status(self._engine) is None else 0)
        yield ready


class OutboxCollector(Collector):
    """The notification outbox as the database holds it, read at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        oldest = GaugeMetricFamily(
            "notification_outbox_oldest_pending_seconds",
            "Age of the oldest notification still waiting to be delivered (0 when none).",
        )
        pending = GaugeMetricFamily(
            "notification_outbox_pending", "Notifications waiting to be delivered."
        )
        try:
            with self._engine.connect() as connection:
                count, age = connection.execute(
                    text(
                        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
                        " FROM notifications WHERE status = 'pending'"
                    )
                ).one()
        except Exception as error:  # platform_ready reports the outage; the scrape goes on
            logger.warning("outbox gauges not collected: %s", type(error).__name__)
            return
        pending.add_metric([], count)
        oldest.add_metric([], float(age))
        yield pending
        yield oldest


class WorkerProcessCollector(Collector):
    """CPU, memory and open files summed over the live workers sharing the multiprocess dir.

    The client's own process collector only sees the process that answers the scrape; with
    several uvicorn workers that is a different one each time.
    """

    _SUMMED = ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds")

    def __init__(self, directory: str) -> None:
        self._directory = Path(directory)

    def _worker_pids(self) -> set[int]:
        pids = set()
        for path in self._directory.glob("*.db"):
            pid = path.stem.rsplit("_", 1)[-1]
            if pid.isdigit() and Path(f"/proc/{pid}").exists():
                pids.add(int(pid))
        return pids

    def collect(self) -> Iterator[Metric]:
        totals: dict[str, float] = dict.fromkeys(self._SUMMED, 0.0)
        families: dict[str, Metric] = {}
        for pid in self._worker_pids():
            collector = ProcessCollector(pid=partial(int, pid), registry=None)
            for family in collector.collect():
                for sample in family.samples:
                    if sample.name in totals:
                        totals[sample.name] += sample.value
                        families.setdefault(sample.name, family)
        for name, family in families.items():
            summed = Metric(family.name, family.documentation, family.type)
            summed.add_sample(name, {}, totals[name])
            yield summed
