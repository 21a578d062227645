"""Builds a service's FastAPI application with what every service shares.

Health (``/healthz``), readiness (``/readyz``: database answers and schema at
head), ``/metrics``, a request body limit, latency metrics per route, and the
mapping of database outages to ``503`` with ``Retry-After``.
"""

import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client.registry import Collector
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tenacity import Retrying, retry_if_exception_type, wait_exponential_jitter

from incident_platform.api.errors import encodable
from incident_platform.api.openapi import document_answers, json_answer
from incident_platform.db import (
    OUTAGE_ERRORS,
    DatabaseUnavailable,
    get_engine,
    is_outage,
    schema_status,
)
from incident_platform.metrics import REQUEST_DURATION, OpenIncidentsCollector, render_metrics
from incident_platform.settings import get_settings

logger = logging.getLogger(__name__)


class Readiness(BaseModel):
    status: str
    reason: str | None = None


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        received = 0
        exceeded = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def replacing_send(message: Message) -> None:
            # Frameworks turn a failing body read into their own 400; say what happened.
            nonlocal refused
            if not exceeded:
                await send(message)
            elif not refused:
                refused = True
                await self._refuse(send)

        try:
            await self.app(scope, counting_receive, replacing_send)
        except BodyTooLarge:
            if not refused:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class LatencyMiddleware:
    """Observes each request's latency by route template.

    Plain ASGI rather than ``BaseHTTPMiddleware``: that one costs about half a
    millisecond per request (a task and a stream per call), measured on the
    ingestion hot path.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_DURATION.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - started
            )


def _service_unavailable(reason: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"database unavailable, retry later: {reason}"},
        status_code=503,
        headers={"Retry-After": str(get_settings().retry_after_seconds)},
    )


class _NotReady(Exception):
    pass


def _await_database(app: FastAPI) -> None:
    """Retries with exponential backoff and jitter until the database is usable.

    Requests are served all along (answering 503 while the database is missing);
    this loop is what reports progress and flips readiness without a restart.
    Migrations are not run here: a deployment runs them once (a Helm hook Job,
    the compose ``migrate`` service, ``make run``), not every replica at start.
    """

    def attempt() -> None:
        reason = schema_status(get_engine())
        if reason is not None:
            raise _NotReady(reason)

    for try_ in Retrying(
        wait=wait_exponential_jitter(initial=0.2, max=5, jitter=0.5),
        retry=retry_if_exception_type(_NotReady),
        before_sleep=lambda state: logger.warning(
            "database not ready yet (%s); retrying", state.outcome and state.outcome.exception()
        ),
    ):
        with try_:
            if app.state.stopping:
                return
            attempt()
    logger.info("database ready")


def configure_logging() -> None:
    """Our loggers at LOG_LEVEL on stderr; uvicorn configures its own."""
    package = logging.getLogger("incident_platform")
    if package.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package.addHandler(handler)
    package.setLevel(os.environ.get("LOG_LEVEL", "info").upper())
    package.propagate = False


def create_app(
    *,
    title: str,
    routers: Iterable[APIRouter],
    description: str = "",
    with_open_incident_gauge: bool = False,
    scrape_collectors: Sequence[Callable[[Engine], Collector]] = (),
    on_start: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
    running: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """``running``: what a service runs in its event loop while it serves (entered after
    ``on_start``, left before ``on_stop``)."""
    settings = get_settings()
    configure_logging()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.stopping = False
        waiter = threading.Thread(target=_await_database, args=(app,), daemon=True)
        waiter.start()
        if on_start is not None:
            on_start()
        async with running(app) if running is not None else nullcontext():
            yield
        app.state.stopping = True
        if on_stop is not None:
            on_stop()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    app.add_middleware(LatencyMiddleware)

    async def database_unavailable(_: Request, error: Exception) -> JSONResponse:
        return _service_unavailable(
            str(error) if isinstance(error, DatabaseUnavailable) else type(error).__name__
        )

    async def database_error(_: Request, error: Exception) -> JSONResponse:
        if is_outage(error):
            return _service_unavailable(type(error).__name__)
        logger.error("database error: %s", type(error).__name__, exc_info=error)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    async def invalid_request(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        # FastAPI's own shape; refused text is echoed back, so make it encodable first.
        return JSONResponse(
            {"detail": encodable(jsonable_encoder(error.errors()))}, status_code=422
        )

    app.add_exception_handler(RequestValidationError, invalid_request)

    outages: tuple[type[Exception], ...] = (DatabaseUnavailable, *OUTAGE_ERRORS)
    for outage in outages:
        app.add_exception_handler(outage, database_unavailable)
    app.add_exception_handler(DBAPIError, database_error)

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
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

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus exposition",
        response_class=PlainTextResponse,
    )
    def metrics() -> Response:
        collectors = [*scrape_collectors]
        if with_open_incident_gauge:
            collectors.append(OpenIncidentsCollector)
        return Response(
            render_metrics(get_engine(), collectors), media_type="text/plain; version=0.0.4"
        )

    routers = list(routers)
    document_answers(app, routers)
    for router in routers:
        app.include_router(router)
    return app
