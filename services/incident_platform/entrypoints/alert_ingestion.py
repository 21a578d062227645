"""The alert ingestion service (:8001): every way alerts arrive."""

from fastapi import FastAPI

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
from incident_platform.entrypoints.serve import serve
from incident_platform.flapping.sweep import FlapSweeper
from incident_platform.metrics import ActiveSilencesCollector, FlappingIncidentsCollector
from incident_platform.silence.sweep import SilenceSweeper

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
    sweeper = SilenceSweeper()
    flaps = FlapSweeper()

    def start() -> None:
        sweeper.start()
        flaps.start()

    def stop() -> None:
        flaps.stop()
        sweeper.stop()

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
