"""The on-call service (:8003): users, schedules, escalation policies, routing, paging."""

from fastapi import FastAPI

from incident_platform.api.app import create_app
from incident_platform.api.routes import ack, escalation_policies, schedules, services, users
from incident_platform.entrypoints.serve import serve
from incident_platform.escalation.runner import EngineRunner
from incident_platform.metrics import OutboxCollector, export_notification_outcomes
from incident_platform.settings import get_settings

# Module level so the web server (web/routing.py) can tell which paths this service owns.
ROUTERS = [users.router, schedules.router, escalation_policies.router, services.router, ack.router]


def build_app() -> FastAPI:
    export_notification_outcomes()
    runner = EngineRunner() if get_settings().run_engine else None
    return create_app(
        title="On-call",
        description="Who gets paged, when and how: schedules with layers, rotations and"
        " overrides, escalation policies, notifications and signed acknowledge links.",
        routers=ROUTERS,
        scrape_collectors=[OutboxCollector],
        on_start=runner.start if runner else None,
        on_stop=runner.stop if runner else None,
    )


def main() -> None:
    serve("incident_platform.entrypoints.oncall:build_app", default_port=8003)


if __name__ == "__main__":
    main()
