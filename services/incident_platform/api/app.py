"""Builds a service's FastAPI application with what every service shares.

Health routes (:mod:`.health`), waiting for the database (:mod:`.readiness`), the body
limit and latency middlewares (:mod:`.middleware`), logging (:mod:`.logs`), and here the
mapping of database outages to ``503`` with ``Retry-After``.
"""

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from incident_platform.api.errors import encodable
from incident_platform.api.health import health_router
from incident_platform.api.logs import configure_logging
from incident_platform.api.middleware import BodyLimitMiddleware, LatencyMiddleware
from incident_platform.api.openapi import document_answers
from incident_platform.api.readiness import await_database
from incident_platform.db import OUTAGE_ERRORS, DatabaseUnavailable, is_outage
from incident_platform.metrics import OpenIncidentsCollector
from incident_platform.settings import get_settings

logger = logging.getLogger(__name__)


def _service_unavailable(reason: str) -> JSONResponse:
    return JSONResponse(
        {"detail": f"database unavailable, retry later: {reason}"},
        status_code=503,
        headers={"Retry-After": str(get_settings().retry_after_seconds)},
    )


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
        waiter = threading.Thread(target=await_database, args=(app,), daemon=True)
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

    async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
        reason = str(error) if isinstance(error, DatabaseUnavailable) else type(error).__name__
        # Operators need the cause of every 503 (pool exhausted, timeout, outage) in the log;
        # the path alone, since a query string could carry a credential.
        logger.warning("%s %s answered 503: %s", request.method, request.url.path, reason)
        return _service_unavailable(reason)

    async def database_error(request: Request, error: Exception) -> JSONResponse:
        if is_outage(error):
            return await database_unavailable(request, error)
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

    collectors = [*scrape_collectors]
    if with_open_incident_gauge:
        collectors.append(OpenIncidentsCollector)
    routers = [health_router(settings, collectors), *routers]
    document_answers(app, routers)
    for router in routers:
        app.include_router(router)
    return app
