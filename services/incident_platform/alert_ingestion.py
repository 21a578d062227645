"""The alert ingestion service (:8001): every way alerts arrive."""

from fastapi import FastAPI

from incident_platform.api.app import create_app
from incident_platform.api.routes import alertmanager, alerts, integrations, pagerduty
from incident_platform.serve import serve

# The alertmanager route must come before /integrations/{id} routes. Module level so the
# web server (web/routing.py) can tell which paths this service owns.
ROUTERS = [alertmanager.router, integrations.router, alerts.router, pagerduty.router]


def build_app() -> FastAPI:
    return create_app(
        title="Alert ingestion",
        description="Receives alerts from scripts, Prometheus Alertmanager and PagerDuty-style"
        " senders, deduplicates and correlates them into incidents.",
        routers=ROUTERS,
    )


def main() -> None:
    serve("incident_platform.alert_ingestion:build_app", default_port=8001)


if __name__ == "__main__":
    main()
