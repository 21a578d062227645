import re

import pytest
from fastapi import APIRouter

from incident_platform.entrypoints import alert_ingestion, incident_management, oncall
from incident_platform.web.routing import AmbiguousRoute, RouteTable, Upstream, platform_routes


def _example_path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "42", template)


@pytest.mark.parametrize(
    ("upstream", "routers"),
    [
        (Upstream.INGESTION, alert_ingestion.ROUTERS),
        (Upstream.INCIDENTS, incident_management.ROUTERS),
        (Upstream.ONCALL, oncall.ROUTERS),
    ],
)
def test_every_route_of_a_service_is_forwarded_to_that_service(
    upstream: Upstream, routers: list[APIRouter]
) -> None:
    table = platform_routes()
    templates = [route.path for router in routers for route in router.routes]  # type: ignore[attr-defined]
    assert templates
    for template in templates:
        assert table.owner(_example_path(template)) is upstream, template


@pytest.mark.parametrize(
    ("path", "owner"),
    [
        ("/v2/enqueue", Upstream.INGESTION),
        ("/api/v1/integrations/alertmanager", Upstream.INGESTION),
        ("/api/v1/incidents/7/acknowledge", Upstream.INCIDENTS),
        ("/api/v1/events", Upstream.INCIDENTS),
        ("/api/v1/schedules/3.ics", Upstream.ONCALL),
        ("/api/v1/ack/some-signed-token", Upstream.ONCALL),
    ],
)
def test_known_paths_have_their_owner(path: str, owner: Upstream) -> None:
    assert platform_routes().owner(path) is owner


@pytest.mark.parametrize("path", ["/", "/incidents/3", "/api/v1/nothing", "/healthz", "/metrics"])
def test_other_paths_belong_to_no_service(path: str) -> None:
    assert platform_routes().owner(path) is None


def test_a_path_two_services_claim_is_refused() -> None:
    first, second = APIRouter(), APIRouter()
    first.add_api_route("/api/v1/things", lambda: None)
    second.add_api_route("/api/v1/things", lambda: None)
    with pytest.raises(AmbiguousRoute, match="/api/v1/things"):
        RouteTable.from_routers([(Upstream.INCIDENTS, [first]), (Upstream.ONCALL, [second])])
