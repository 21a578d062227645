"""Which service owns which API path, read from the services' own routers.

The table is derived rather than kept by hand, so a route added to a service is
reachable through :8080 the moment it exists. Only the routers are read: no
service app is built, so nothing starts and no service setting is needed here.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fastapi import APIRouter
from starlette.routing import Route


class Upstream(StrEnum):
    INGESTION = "ingestion"
    INCIDENTS = "incidents"
    ONCALL = "oncall"


@dataclass(frozen=True)
class OwnedPath:
    template: str
    pattern: re.Pattern[str]
    upstream: Upstream


class AmbiguousRoute(ValueError):
    pass


class RouteTable:
    """First match wins, in each service's own route order (as its app matches them)."""

    def __init__(self, owned: Sequence[OwnedPath]) -> None:
        owners: dict[str, set[Upstream]] = {}
        for path in owned:
            owners.setdefault(path.template, set()).add(path.upstream)
        shared = sorted(template for template, ups in owners.items() if len(ups) > 1)
        if shared:
            raise AmbiguousRoute(f"paths owned by more than one service: {shared}")
        self.owned = tuple(owned)

    @classmethod
    def from_routers(cls, routers: Iterable[tuple[Upstream, Iterable[APIRouter]]]) -> "RouteTable":
        return cls(
            [
                OwnedPath(route.path, route.path_regex, upstream)
                for upstream, service_routers in routers
                for router in service_routers
                for route in router.routes
                if isinstance(route, Route)
            ]
        )

    def owner(self, path: str) -> Upstream | None:
        for owned in self.owned:
            if owned.pattern.match(path):
                return owned.upstream
        return None


def platform_routes() -> RouteTable:
    # Imported here: the service modules import most of the platform.
    from incident_platform.entrypoints import alert_ingestion, incident_management, oncall

    return RouteTable.from_routers(
        [
            (Upstream.INGESTION, alert_ingestion.ROUTERS),
            (Upstream.INCIDENTS, incident_management.ROUTERS),
            (Upstream.ONCALL, oncall.ROUTERS),
        ]
    )
