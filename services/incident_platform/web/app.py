"""The web server's ASGI app: the UI bundle, the API paths forwarded, security headers.

One origin for the browser: ``/api/...`` and ``/v2/enqueue`` go to the service that owns
each path (derived from the services' routers, web/routing.py); anything else is the
single-page app, a file of the bundle or its ``index.html`` for client-side routes.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from incident_platform.settings import Settings, get_settings
from incident_platform.web.headers import SecurityHeadersMiddleware
from incident_platform.web.proxy import forward, unavailable
from incident_platform.web.routing import RouteTable, Upstream, platform_routes

# Vite puts content-hashed files under assets/: a new build has new names.
_IMMUTABLE = "public, max-age=31536000, immutable"


class Bundle:
    """Files of the built UI under ``root``; unknown client-side routes get index.html."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def response(self, path: str) -> Response:
        index = self.root / "index.html"
        if not index.is_file():
            return unavailable(f"the UI bundle is not built: no {index}", retry_after=30)
        relative = path.lstrip("/")
        candidate = (self.root / relative).resolve()
        if relative and candidate.is_relative_to(self.root) and candidate.is_file():
            cache = _IMMUTABLE if relative.startswith("assets/") else "no-cache"
            return FileResponse(candidate, headers={"cache-control": cache})
        if "." in relative.rsplit("/", 1)[-1]:
            # Looks like a file (a stale asset, a typo): a 404, not HTML in place of a script.
            return JSONResponse({"detail": f"no such file: /{relative}"}, status_code=404)
        return FileResponse(index, headers={"cache-control": "no-cache"})


def upstream_urls(settings: Settings) -> dict[Upstream, str]:
    return {
        Upstream.INGESTION: str(settings.web_ingestion_url),
        Upstream.INCIDENTS: str(settings.web_incidents_url),
        Upstream.ONCALL: str(settings.web_oncall_url),
    }


def build_app(settings: Settings | None = None, routes: RouteTable | None = None) -> Starlette:
    settings = settings or get_settings()
    table = routes or platform_routes()
    upstreams = upstream_urls(settings)
    bundle = Bundle(settings.web_dist_dir)
    timeout = httpx.Timeout(
        connect=settings.web_connect_timeout_seconds,
        read=settings.web_read_timeout_seconds,
        write=settings.web_read_timeout_seconds,
        pool=settings.web_connect_timeout_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # No redirects followed and no cookies kept: the browser sees what the service said.
        async with httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=50),
        ) as client:
            app.state.client = client
            yield

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def dispatch(request: Request) -> Response:
        path = request.url.path
        owner = table.owner(path)
        if owner is not None:
            return await forward(
                request.app.state.client,
                upstreams[owner],
                request,
                retry_after=settings.retry_after_seconds,
            )
        if path.startswith("/api/"):
            return JSONResponse({"detail": f"no service serves {path}"}, status_code=404)
        if request.method not in ("GET", "HEAD"):
            return JSONResponse(
                {"detail": "method not allowed"}, status_code=405, headers={"allow": "GET, HEAD"}
            )
        return bundle.response(path)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/{path:path}", dispatch, methods=methods),
        ],
        middleware=[Middleware(SecurityHeadersMiddleware)],
        lifespan=lifespan,
    )
