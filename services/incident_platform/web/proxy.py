"""Forwards an API request to the service that owns it, streaming both ways.

The response body is relayed chunk by chunk as it arrives (``aiter_raw``), so Server-Sent
Events reach the browser unbuffered, and a client that goes away closes the upstream
stream. No credential is added: the browser's Authorization header is passed on as is, and
a request without one gets the service's own 401.
"""

import logging
from collections.abc import AsyncIterator

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from incident_platform.web.headers import end_to_end

logger = logging.getLogger(__name__)


def unavailable(detail: str, retry_after: int) -> JSONResponse:
    return JSONResponse(
        {"detail": detail}, status_code=503, headers={"Retry-After": str(retry_after)}
    )


def _forwarded_headers(request: Request) -> list[tuple[bytes, bytes]]:
    headers = [
        (name, value)
        for name, value in end_to_end(request.headers.raw)
        if name.lower() not in (b"host", b"x-forwarded-for", b"x-forwarded-proto")
    ]
    client = request.client.host if request.client else ""
    headers.append((b"x-forwarded-for", client.encode()))
    headers.append((b"x-forwarded-proto", request.url.scheme.encode()))
    headers.append((b"x-forwarded-host", request.headers.get("host", "").encode()))
    return headers


def _has_body(request: Request) -> bool:
    return "content-length" in request.headers or "transfer-encoding" in request.headers


async def _relay(upstream: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    except httpx.TransportError as error:
        # The service went away mid-stream (a restart, say): end the response; an event
        # stream client reconnects with Last-Event-ID and misses nothing.
        logger.warning("upstream stream ended: %s", type(error).__name__)


async def forward(
    client: httpx.AsyncClient, base_url: str, request: Request, *, retry_after: int
) -> Response:
    # The path exactly as the browser sent it (percent-encoding untouched), on the service.
    path = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    query = request.url.query
    url = base_url.rstrip("/") + path + (f"?{query}" if query else "")
    upstream_request = client.build_request(
        request.method,
        url,
        headers=_forwarded_headers(request),
        content=request.stream() if _has_body(request) else None,
    )
    try:
        upstream = await client.send(upstream_request, stream=True)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        return unavailable(f"upstream {base_url} unavailable: {type(error).__name__}", retry_after)
    except httpx.TimeoutException as error:
        return unavailable(
            f"upstream {base_url} did not answer: {type(error).__name__}", retry_after
        )
    except httpx.TransportError as error:
        return unavailable(f"upstream {base_url} failed: {type(error).__name__}", retry_after)
    response = StreamingResponse(
        _relay(upstream),
        status_code=upstream.status_code,
        background=BackgroundTask(upstream.aclose),
    )
    response.raw_headers = end_to_end(upstream.headers.raw)
    return response
