"""The ASGI middlewares: the body limit (announced or streamed bodies, 413 either way, the
framework's own answer replaced) and the latency histogram by route template."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from incident_platform.api.middleware import BodyLimitMiddleware, LatencyMiddleware

LIMIT = 64
started: list[bool] = []


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    started.append(True)
    yield


app = FastAPI(lifespan=lifespan)
calls: list[int] = []


@app.post("/echo/{item_id}")
async def echo(item_id: int, request: Request) -> dict[str, int]:
    body = await request.body()
    calls.append(len(body))
    return {"item": item_id, "length": len(body)}


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("boom")


app.add_middleware(BodyLimitMiddleware, max_bytes=LIMIT)
app.add_middleware(LatencyMiddleware)


@pytest.fixture
def client() -> Iterator[TestClient]:
    calls.clear()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def observed(method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) or 0.0


def chunks(*sizes: int) -> Iterator[bytes]:
    for size in sizes:
        yield b"x" * size


def test_a_body_at_the_limit_goes_through(client: TestClient) -> None:
    response = client.post("/echo/1", content=b"x" * LIMIT)

    assert response.status_code == 200
    assert response.json() == {"item": 1, "length": LIMIT}


def test_an_announced_body_over_the_limit_is_refused_before_the_app_runs(
    client: TestClient,
) -> None:
    response = client.post("/echo/1", content=b"x" * (LIMIT + 1))

    assert response.status_code == 413
    assert response.json() == {"detail": f"request body larger than {LIMIT} bytes"}
    assert calls == []


def test_a_streamed_body_over_the_limit_is_413_not_the_frameworks_400(
    client: TestClient,
) -> None:
    response = client.post("/echo/1", content=chunks(40, 40))

    assert response.status_code == 413
    assert response.json() == {"detail": f"request body larger than {LIMIT} bytes"}
    assert calls == []


def test_a_streamed_body_within_the_limit_goes_through(client: TestClient) -> None:
    response = client.post("/echo/2", content=chunks(30, 30))

    assert response.json() == {"item": 2, "length": 60}


def test_other_scopes_pass_through(client: TestClient) -> None:
    assert started, "the lifespan scope reached the app through both middlewares"


def test_latency_is_counted_by_route_template_method_and_status(client: TestClient) -> None:
    before = observed("POST", "/echo/{item_id}", 200)
    refused_before = observed("POST", "/echo/{item_id}", 422)

    client.post("/echo/1", content=b"{}")
    client.post("/echo/2", content=b"{}")
    client.post("/echo/not-a-number", content=b"{}")

    assert observed("POST", "/echo/{item_id}", 200) == before + 2
    assert observed("POST", "/echo/{item_id}", 422) == refused_before + 1


def test_unmatched_paths_and_failures_are_counted_too(client: TestClient) -> None:
    unmatched = observed("GET", "unmatched", 404)
    failed = observed("GET", "/boom", 500)

    assert client.get("/no/such/path").status_code == 404
    assert client.get("/boom").status_code == 500

    assert observed("GET", "unmatched", 404) == unmatched + 1
    assert observed("GET", "/boom", 500) == failed + 1
