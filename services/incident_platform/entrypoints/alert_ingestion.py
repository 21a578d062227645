"""The alert ingestion service (:8001): every way alerts arrive."""

from fastapi import FastAPI

from incident_platform.alert.ingest import sweep_ended_silences, sweep_quiet_flaps
from incident_platform.api.app import create_app
from incident_platform.api.routes import (
    alertmanager,
    alertmanager_status,
    alerts,
    grouping_rules,
    integrations,
    pagerduty,
    silences,
)
from incident_platform.db import get_engine
from incident_platform.entrypoints.serve import serve
from incident_platform.metrics import ActiveSilencesCollector, FlappingIncidentsCollector
from incident_platform.settings import get_settings
from incident_platform.sweeper import PeriodicSweep

# The alertmanager route must come before /integrations/{id} routes. Module level so the
# web server (web/routing.py) can tell which paths this service owns.
ROUTERS = [
    alertmanager.router,
    integrations.router,
    alerts.router,
    pagerduty.router,
    silences.router,
    alertmanager_status.router,
    grouping_rules.router,
]


def build_app() -> FastAPI:
    sweeps = [
        # Silences whose endsAt passed: their alerts still firing are correlated then.
        PeriodicSweep(
            "silence-sweep",
            lambda: get_settings().silence_sweep_seconds,
            lambda: sweep_ended_silences(get_engine()),
            "released %d alerts of ended silences",
        ),
        # Quiet flapping alerts count unchanged checks, so an alert that settled stops
        # flapping and its incident can resolve.
        PeriodicSweep(
            "flap-sweep",
            lambda: get_settings().flap_sweep_seconds,
            lambda: sweep_quiet_flaps(get_engine()),
            "counted quiet checks of %d flapping alerts",
        ),
    ]

    def start() -> None:
        for sweep in sweeps:
            sweep.start()

    def stop() -> None:
        for sweep in reversed(sweeps):
            sweep.stop()

    return create_app(
        title="Alert ingestion",
        description="Receives alerts from scripts, Prometheus Alertmanager and PagerDuty-style"
        " senders, deduplicates and correlates them into incidents; Alertmanager-compatible"
        " silences mute matching alerts.",
        routers=ROUTERS,
        scrape_collectors=[ActiveSilencesCollector, FlappingIncidentsCollector],
        on_start=start,
        on_stop=stop,
    )


def main() -> None:
    serve("incident_platform.entrypoints.alert_ingestion:build_app", default_port=8001)


if __name__ == "__main__":
    main()
