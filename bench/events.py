"""The incident event stream under many subscribers: 200 open streams on one worker.

One incident-management worker; 200 ``GET /api/v1/events`` streams held open by this
process (httpx, one asyncio loop). Then, one at a time, an incident change through the API
(a note: commit, the process's NOTIFY, the broadcaster's read, the fan-out): the time from
sending the change to the moment the last of the 200 streams has received its event. And
before that, the worker's CPU while the 200 streams are open and nothing happens (the
heartbeats and the broadcaster's fallback poll are all it does).
"""

import asyncio
import contextlib
import statistics
import time

import httpx
import psycopg

from bench import cpu
from bench.context import Context
from bench.model import Measurement, Row
from bench.stack import AppProcess, free_port

STREAMS = 200
CHANGES = 100
IDLE_SECONDS = 10.0
PAUSE_SECONDS = 0.1


async def _follow(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ready: asyncio.Event,
    ready_count: list[int],
    arrivals: dict[int, list[float]],
    everywhere: dict[int, asyncio.Event],
) -> None:
    async with client.stream("GET", "/api/v1/events", headers=headers) as response:
        response.raise_for_status()
        kind = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind == "incident":
                change_seq = int(line.split('"change_seq":', 1)[1].split(",", 1)[0])
                received = arrivals.setdefault(change_seq, [])
                received.append(time.perf_counter())
                if len(received) == STREAMS:
                    everywhere.setdefault(change_seq, asyncio.Event()).set()
            elif line == "" and kind == "ready":
                ready_count[0] += 1
                if ready_count[0] == STREAMS:
                    ready.set()
                kind = ""


async def _measure(url: str, token: str, incident_id: int, worker: int) -> Row:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=STREAMS + 10, max_keepalive_connections=STREAMS + 10)
    timeout = httpx.Timeout(30.0, read=None)
    arrivals: dict[int, list[float]] = {}
    everywhere: dict[int, asyncio.Event] = {}
    ready = asyncio.Event()
    ready_count = [0]
    async with (
        httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as streams,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as api,
    ):
        tasks = [
            asyncio.create_task(_follow(streams, headers, ready, ready_count, arrivals, everywhere))
            for _ in range(STREAMS)
        ]
        await asyncio.wait_for(ready.wait(), timeout=120)
        await asyncio.sleep(1.0)
        before, started = cpu._cpu_seconds(worker), time.perf_counter()
        await asyncio.sleep(IDLE_SECONDS)
        after, idle_for = cpu._cpu_seconds(worker), time.perf_counter() - started
        idle_percent = 100.0 * ((after or 0.0) - (before or 0.0)) / idle_for
        latencies: list[float] = []
        missed = 0
        run_started = time.perf_counter()
        for n in range(CHANGES):
            sent = time.perf_counter()
            response = await api.post(
                f"/api/v1/incidents/{incident_id}/notes", json={"text": f"bench {n}"}
            )
            response.raise_for_status()
            change_seq = (await api.get(f"/api/v1/incidents/{incident_id}")).json()["change_seq"]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    everywhere.setdefault(change_seq, asyncio.Event()).wait(), timeout=10
                )
            received = arrivals.get(change_seq, [])
            if len(received) < STREAMS:
                missed += 1
            else:
                latencies.append(max(received) - sent)
            await asyncio.sleep(PAUSE_SECONDS)
        seconds = time.perf_counter() - run_started
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    measurement = Measurement(
        calls=CHANGES,
        ok_calls=len(latencies),
        seconds=seconds,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        errors={"not delivered to every stream": missed} if missed else {},
    )
    return Row(
        "s1",
        f"{STREAMS} open event streams on 1 worker: an incident change to the last stream",
        "micro",
        measurement,
        unit="change",
        note=f"idle CPU of the worker with {STREAMS} open streams: {idle_percent:.1f}% of a core",
    )


def event_streams(ctx: Context) -> Row:
    app = AppProcess(
        name="incident-management-events",
        module="incident_platform.entrypoints.incident_management",
        port=free_port(),
        workers=1,
        env=ctx._env("incident-management-events"),
        log_path=ctx.work_dir / "incident-management-events.log",
    )
    with psycopg.connect(
        ctx.database.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as db:
        row = db.execute(
            "INSERT INTO incidents (title, service, severity, status, alert_count)"
            " VALUES ('bench events', 'bench-events', 'critical', 'triggered', 1) RETURNING id"
        ).fetchone()
    assert row is not None
    print(f"starting incident management (1 worker) on {app.url}", flush=True)
    app.start("/readyz")
    try:
        assert app.process is not None
        return asyncio.run(_measure(app.url, ctx.admin_token, int(row[0]), app.process.pid))
    finally:
        app.stop()
