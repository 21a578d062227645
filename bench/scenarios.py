"""The rows of the table, in the order they run. Append a Scenario to add one.

HTTP rows drive a running stack with wrk; micro rows time a call in process.
Rows are grouped by stack so that each stack starts once.
"""

import json
import uuid
from functools import partial

from bench.context import Context
from bench.events import event_streams
from bench.micro import time_calls
from bench.model import Row, Scenario

HOT_SERVICE = "checkout-hot"


def bare_constant(ctx: Context) -> Row:
    app = ctx.app("baseline")
    measurement = ctx.load("a", app, "/const", script="const")
    return Row("a", "bare FastAPI endpoint, constant", "http", measurement)


def _connections(connections: int | None) -> str:
    return "" if connections is None else f", {connections} connections"


def bare_upsert(ctx: Context, key: str = "b", connections: int | None = None) -> Row:
    app = ctx.app("baseline")
    measurement = ctx.load(key, app, "/upsert", script="upsert", connections=connections)
    return Row(
        key,
        "bare async endpoint, one INSERT ... ON CONFLICT" + _connections(connections),
        "http",
        measurement,
        items_per_call=1,
        unit="row",
    )


def alerts_unique_services(ctx: Context, key: str = "c", connections: int | None = None) -> Row:
    app = ctx.app("platform")
    measurement = ctx.load(
        key,
        app,
        "/api/v1/alerts",
        script="alerts_unique",
        bearer=ctx.keys["generic"],
        connections=connections,
    )
    return Row(
        key,
        "POST /api/v1/alerts, new service each (new incident)" + _connections(connections),
        "http",
        measurement,
        items_per_call=1,
        unit="alert",
    )


def alerts_hot_service(ctx: Context, key: str = "d", connections: int | None = None) -> Row:
    app = ctx.app("platform")
    measurement = ctx.load(
        key,
        app,
        "/api/v1/alerts",
        script="alerts_hot",
        args=[HOT_SERVICE],
        bearer=ctx.keys["generic"],
        connections=connections,
    )
    return Row(
        key,
        "POST /api/v1/alerts, one hot service (attach)" + _connections(connections),
        "http",
        measurement,
        items_per_call=1,
        unit="alert",
    )


def alertmanager_batches(ctx: Context, key: str = "e", connections: int | None = None) -> Row:
    app = ctx.app("platform")
    size, services = ctx.options.alerts_per_batch, ctx.options.batch_services
    measurement = ctx.load(
        key,
        app,
        "/api/v1/integrations/alertmanager",
        script="alertmanager",
        args=[str(size), str(services)],
        bearer=ctx.keys["alertmanager"],
        connections=connections,
    )
    return Row(
        key,
        f"Alertmanager webhook, {size} alerts over {services} services" + _connections(connections),
        "http",
        measurement,
        items_per_call=size,
        unit="alert",
    )


MIXED_SERVICES = 20


def alerts_mixed(ctx: Context) -> Row:
    """(x) firing and resolving alternately: open, attach, auto-resolve, reopen."""
    app = ctx.app("platform")
    measurement = ctx.load(
        "x",
        app,
        "/api/v1/alerts",
        script="alerts_mixed",
        args=[str(MIXED_SERVICES)],
        bearer=ctx.keys["generic"],
    )
    return Row(
        "x",
        f"POST /api/v1/alerts, half firing, half resolving them ({MIXED_SERVICES} services"
        " per wrk thread)",
        "http",
        measurement,
        items_per_call=1,
        unit="alert",
    )


SEED_BATCH = 100


def _seed_incidents(url: str, total: int) -> int:
    """Tops the incidents table up to ``total`` rows (the earlier rows left some): 95 %
    resolved, the rest open, over as many services, created over the last 90 days.

    In transactions of ``SEED_BATCH`` incidents, as ingestion writes them: incidents of one
    transaction share a change_seq, and the change feed never splits one, so a single
    100,000-row transaction would make every feed read (the event broadcaster's poll)
    return all of them.
    """
    import psycopg

    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as db:
        row = db.execute("SELECT count(*) FROM incidents").fetchone()
        missing = total - int(row[0] if row else 0)
        for first in range(1, missing + 1, SEED_BATCH):
            db.execute(
                "INSERT INTO incidents (title, service, severity, status, alert_count,"
                " created_at, updated_at, acknowledged_at, resolved_at)"
                " SELECT 'Error rate above 5%% on list-' || n, 'list-' || n,"
                " (ARRAY['critical','high','warning','info'])[1 + n %% 4],"
                " CASE WHEN n %% 20 = 0 THEN 'triggered' ELSE 'resolved' END, 1 + n %% 7,"
                " at, at, CASE WHEN n %% 20 = 0 THEN NULL ELSE at + interval '3 minutes' END,"
                " CASE WHEN n %% 20 = 0 THEN NULL ELSE at + interval '40 minutes' END"
                " FROM (SELECT n, now() - (n %% 129600) * interval '1 minute' AS at"
                "       FROM generate_series(%s::int, %s::int) AS n) AS seeded",
                (first, min(first + SEED_BATCH - 1, missing)),
            )
        if missing > 0:
            db.execute("VACUUM ANALYZE incidents")
        counted = db.execute("SELECT count(*) FROM incidents").fetchone()
        return int(counted[0] if counted else 0)


# People paging through the list, not a storm: latency is the aim, and 32 concurrent
# callers on 2 cores would measure the queue in front of them instead.
LIST_CONNECTIONS = 4


def incident_list(ctx: Context, key: str, query: str, title: str) -> Row:
    total = _seed_incidents(ctx.database.url, ctx.options.list_incidents)
    app = ctx.app("incidents")
    measurement = ctx.load(
        key,
        app,
        "/api/v1/incidents" + query,
        script="const",
        bearer=ctx.admin_token,
        connections=LIST_CONNECTIONS,
    )
    return Row(
        key,
        f"GET /api/v1/incidents{query} over {total:,} incidents, {LIST_CONNECTIONS}"
        f" connections: {title}",
        "http",
        measurement,
        note="aim: p99 under 20 ms",
    )


def alertmanager_payload(size: int, services: int) -> bytes:
    """The same body (e) sends, built in Python, for in-process rows."""
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": f"HighErrorRate{i}",
                "job": f"am-svc-{i % services}",
                "severity": "critical",
            },
            "annotations": {"summary": f"Error rate high on am-svc-{i % services} (m-{i})"},
            "startsAt": "2026-11-26T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://p",
            "fingerprint": f"m-{i}",
        }
        for i in range(size)
    ]
    payload = {
        "version": "4",
        "status": "firing",
        "receiver": "x",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am",
        "groupKey": "k",
        "truncatedAlerts": 0,
        "alerts": alerts,
    }
    return json.dumps(payload).encode()


def parse_alertmanager_batch(ctx: Context) -> Row:
    """In process: validate (e)'s body and turn it into signals; no HTTP, no database."""
    from incident_platform.alert.alertmanager import AlertmanagerPayload, split_alerts, to_signal
    from incident_platform.auth.rules import IntegrationIdentity, IntegrationKind

    size = ctx.options.alerts_per_batch
    body = alertmanager_payload(size, ctx.options.batch_services)
    integration = IntegrationIdentity(uuid.uuid4(), "bench", IntegrationKind.ALERTMANAGER, None)

    def call() -> None:
        payload = AlertmanagerPayload.model_validate_json(body)
        for _, alert in split_alerts(payload.alerts).valid:
            to_signal(alert, integration)

    measurement = time_calls(call, iterations=2000, max_seconds=3)
    return Row(
        "m1",
        f"in process: parse an Alertmanager batch of {size} into signals",
        "micro",
        measurement,
        items_per_call=size,
        unit="alert",
        note="one core, no HTTP, no database",
    )


def oncall_lookup(ctx: Context) -> Row:
    """``oncall_at`` on a 3-layer, 20-user schedule with 50 overrides, started years ago."""
    from datetime import timedelta

    from bench.schedule_fixture import benchmark_schedule
    from incident_platform.schedule.rules import oncall_at

    schedule, overrides, now = benchmark_schedule()
    instants = iter([now + timedelta(minutes=37 * n) for n in range(30_000)])
    measurement = time_calls(
        lambda: oncall_at(schedule, overrides, next(instants)), iterations=20_000, max_seconds=5
    )
    return Row(
        "m2",
        "in process: oncall(at), 3 layers, 20 users, 50 overrides",
        "micro",
        measurement,
        note="aim: under 1 ms per call",
    )


def render_year(ctx: Context) -> Row:
    from datetime import timedelta

    from bench.schedule_fixture import benchmark_schedule
    from incident_platform.schedule.rules import render_shifts

    schedule, overrides, now = benchmark_schedule()
    measurement = time_calls(
        lambda: render_shifts(schedule, overrides, now, now + timedelta(days=365)),
        iterations=50,
        max_seconds=10,
    )
    return Row("m3", "in process: render a year of that schedule's shifts", "micro", measurement)


def _seed_engine_load(url: str, incidents: int) -> None:
    """10,000 open incidents of routed services, seeded with the rows the API would write."""
    import psycopg

    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as db:
        user = db.execute(
            "INSERT INTO users (id, name, email, timezone, contact_methods) VALUES"
            " (gen_random_uuid(), 'bench', 'bench@example.com', 'UTC',"
            ' \'[{"type": "webhook", "address": "http://127.0.0.1:9/bench"}]\')'
            " RETURNING id"
        ).fetchone()
        assert user is not None
        layers = json.dumps(
            [
                {
                    "name": "primary",
                    "users": [str(user[0])],
                    "start": "2026-01-01T09:00:00+00:00",
                    "rotation": {"type": "daily", "handoff_time": "09:00"},
                    "restrictions": [],
                }
            ]
        )
        schedule = db.execute(
            "INSERT INTO schedules (id, name, timezone, layers) VALUES"
            " (gen_random_uuid(), 'bench', 'UTC', %s::jsonb) RETURNING id",
            (layers,),
        ).fetchone()
        assert schedule is not None
        steps = json.dumps(
            [
                {"delay_minutes": 0, "targets": [{"type": "schedule", "id": str(schedule[0])}]},
                {"delay_minutes": 5, "targets": [{"type": "user", "id": str(user[0])}]},
            ]
        )
        policy = db.execute(
            "INSERT INTO escalation_policies (id, name, steps, repeat) VALUES"
            " (gen_random_uuid(), 'bench', %s::jsonb, 0) RETURNING id",
            (steps,),
        ).fetchone()
        assert policy is not None
        db.execute(
            "INSERT INTO service_routing (service, escalation_policy_id, updated_at)"
            " SELECT 'tick-' || n, %s, now() - interval '1 hour'"
            " FROM generate_series(1, %s) AS n",
            (policy[0], incidents),
        )
        db.execute(
            "INSERT INTO incidents (title, service, severity, status, alert_count)"
            " SELECT 'bench ' || n, 'tick-' || n, 'critical', 'triggered', 1"
            " FROM generate_series(1, %s) AS n",
            (incidents,),
        )
        db.execute("ANALYZE")


def engine_ticks(ctx: Context) -> list[Row]:
    """Escalation-engine ticks over 10,000 open incidents: a storm opening them all at
    once (start 10,000 escalations and fire step 1), a tick where step 2 of each comes
    due (10,000 pages), and an ordinary tick with nothing due."""
    from datetime import timedelta
    from functools import partial

    from sqlalchemy import text

    from incident_platform.clock import utc_now
    from incident_platform.db import make_engine
    from incident_platform.escalation.engine import update_all
    from incident_platform.settings import Settings

    incidents = ctx.options.engine_incidents
    _seed_engine_load(ctx.database.url, incidents)
    engine = make_engine(Settings(database_url=ctx.database.url))
    rows = []
    try:
        start = utc_now()
        for key, title, at in (
            ("m4", "all open at once: start escalations, fire step 1 of each", start),
            ("m5", f"step 2 of each comes due: {incidents:,} pages", start + timedelta(minutes=6)),
            ("m6", "nothing due", start + timedelta(minutes=7)),
        ):
            measurement = time_calls(partial(update_all, engine, at), iterations=1, warmup=0)
            rows.append(
                Row(
                    key,
                    f"engine tick over {incidents:,} open incidents: {title}",
                    "micro",
                    measurement,
                    note="aim: a tick under 1 s",
                )
            )
        with engine.connect() as connection:
            pages = connection.execute(text("SELECT count(*) FROM notifications")).scalar_one()
        if pages != 2 * incidents:
            rows[-1].measurement.errors["pages"] = abs(2 * incidents - pages)
    finally:
        engine.dispose()
    return rows


HIGH = 128

SCENARIOS: list[Scenario] = [
    Scenario("a", "bare constant", bare_constant, stack="baseline"),
    Scenario("b", "bare upsert", bare_upsert, stack="baseline"),
    Scenario(
        "b128",
        "bare upsert, 128 connections",
        partial(bare_upsert, key="b128", connections=HIGH),
        stack="baseline",
    ),
    Scenario("c", "alerts, unique services", alerts_unique_services, stack="platform"),
    Scenario(
        "c128",
        "alerts, unique services, 128 connections",
        partial(alerts_unique_services, key="c128", connections=HIGH),
        stack="platform",
    ),
    Scenario("d", "alerts, hot service", alerts_hot_service, stack="platform"),
    Scenario(
        "d128",
        "alerts, hot service, 128 connections",
        partial(alerts_hot_service, key="d128", connections=HIGH),
        stack="platform",
    ),
    Scenario("e", "alertmanager batches", alertmanager_batches, stack="platform"),
    Scenario(
        "e128",
        "alertmanager batches, 128 connections",
        partial(alertmanager_batches, key="e128", connections=HIGH),
        stack="platform",
    ),
    Scenario(
        "e4",
        "alertmanager batches, 4 connections",
        partial(alertmanager_batches, key="e4", connections=4),
        stack="platform",
    ),
    Scenario("x", "alerts firing and resolving", alerts_mixed, stack="platform"),
    Scenario(
        "l",
        "incident list",
        partial(incident_list, key="l", query="?limit=50", title="the first page"),
        stack="incidents",
    ),
    Scenario(
        "l2",
        "incident list, open only",
        partial(
            incident_list, key="l2", query="?status=triggered&limit=50", title="open ones only"
        ),
        stack="incidents",
    ),
    Scenario("m1", "parse a batch", parse_alertmanager_batch),
    Scenario("m2", "oncall(at)", oncall_lookup),
    Scenario("m3", "render a year", render_year),
    Scenario("m4", "engine ticks over 10,000 open incidents", engine_ticks),
    Scenario("s1", "200 open event streams", event_streams),
]
