"""The incident management service (:8002): incidents, their lifecycle, tokens and stats."""

from fastapi import FastAPI

from incident_platform.api.app import create_app
from incident_platform.api.routes import events, incidents, stats, tokens, whoami
from incident_platform.entrypoints.serve import serve

# Module level so the web server (web/routing.py) can tell which paths this service owns.
ROUTERS = [incidents.router, events.router, tokens.router, stats.router, whoami.router]


def build_app() -> FastAPI:
    return create_app(
        title="Incident management",
        description="Incidents, their timeline and lifecycle, MTTA/MTTR, and API tokens.",
        routers=ROUTERS,
        with_open_incident_gauge=True,
        running=events.broadcasting,
    )


def main() -> None:
    serve("incident_platform.entrypoints.incident_management:build_app", default_port=8002)


if __name__ == "__main__":
    main()
