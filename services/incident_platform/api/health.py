"""The routes every service answers besides its own: liveness, readiness, metrics."""

from collections.abc import Callable, Sequence

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from incident_platform.api.openapi import json_answer
from incident_platform.api.readiness import Readiness
from incident_platform.db import get_engine, schema_status
from incident_platform.metrics import render_metrics
from incident_platform.settings import Settings


def health_router(
    settings: Settings, collectors: Sequence[Callable[[Engine], Collector]]
) -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics`` (rendering ``collectors`` on each scrape)."""
    router = APIRouter()

    @router.get("/healthz", tags=["health"], summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        tags=["health"],
        summary="Database answers and schema is at head",
        responses={
            200: json_answer(Readiness, "Ready"),
            503: json_answer(Readiness, "Not ready; the reason says why"),
        },
    )
    def readyz() -> JSONResponse:
        reason = schema_status(get_engine())
        if reason is None:
            return JSONResponse({"status": "ready"})
        return JSONResponse(
            {"status": "not ready", "reason": reason},
            status_code=503,
            headers={"Retry-After": str(settings.retry_after_seconds)},
        )

    @router.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus exposition",
        response_class=PlainTextResponse,
    )
    def metrics() -> Response:
        return Response(
            render_metrics(get_engine(), list(collectors)), media_type="text/plain; version=0.0.4"
        )

    return router
