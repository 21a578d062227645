"""The rows of the table, in the order they run. Append a Scenario to add one.

HTTP rows drive a running stack with wrk; micro rows time a call in process.
Rows are grouped by stack so that each stack starts once.
"""

import json
import uuid

from bench.context import Context
from bench.micro import time_calls
from bench.model import Row, Scenario

HOT_SERVICE = "checkout-hot"


def bare_constant(ctx: Context) -> Row:
    app = ctx.app("baseline")
    measurement = ctx.load("a", app, "/const", script="const")
    return Row("a", "bare FastAPI endpoint, constant", "http", measurement)


def bare_upsert(ctx: Context) -> Row:
    app = ctx.app("baseline")
    measurement = ctx.load("b", app, "/upsert", script="upsert")
    return Row(
        "b",
        "bare endpoint, one INSERT ... ON CONFLICT",
        "http",
        measurement,
        items_per_call=1,
        unit="row",
    )


def alerts_unique_services(ctx: Context) -> Row:
    app = ctx.app("platform")
    measurement = ctx.load(
        "c", app, "/api/v1/alerts", script="alerts_unique", bearer=ctx.keys["generic"]
    )
    return Row(
        "c",
        "POST /api/v1/alerts, new service each (new incident)",
        "http",
        measurement,
        items_per_call=1,
        unit="alert",
    )


def alerts_hot_service(ctx: Context) -> Row:
    app = ctx.app("platform")
    measurement = ctx.load(
        "d",
        app,
        "/api/v1/alerts",
        script="alerts_hot",
        args=[HOT_SERVICE],
        bearer=ctx.keys["generic"],
    )
    return Row(
        "d",
        "POST /api/v1/alerts, one hot service (attach)",
        "http",
        measurement,
        items_per_call=1,
        unit="alert",
    )


def alertmanager_batches(ctx: Context) -> Row:
    app = ctx.app("platform")
    size, services = ctx.options.alerts_per_batch, ctx.options.batch_services
    measurement = ctx.load(
        "e",
        app,
        "/api/v1/integrations/alertmanager",
        script="alertmanager",
        args=[str(size), str(services)],
        bearer=ctx.keys["alertmanager"],
    )
    return Row(
        "e",
        f"Alertmanager webhook, {size} alerts over {services} services",
        "http",
        measurement,
        items_per_call=size,
        unit="alert",
    )


def alertmanager_batches_few_senders(ctx: Context) -> Row:
    """(e) with 4 connections: a few Alertmanagers rather than 32 concurrent webhooks."""
    app = ctx.app("platform")
    size, services = ctx.options.alerts_per_batch, ctx.options.batch_services
    measurement = ctx.load(
        "e4",
        app,
        "/api/v1/integrations/alertmanager",
        script="alertmanager",
        args=[str(size), str(services)],
        bearer=ctx.keys["alertmanager"],
        connections=4,
    )
    return Row(
        "e4",
        "the same as (e) over 4 connections",
        "http",
        measurement,
        items_per_call=size,
        unit="alert",
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
    from incident_platform.alert.alertmanager import AlertmanagerPayload, to_signal
    from incident_platform.auth.models import IntegrationKind
    from incident_platform.auth.store import IntegrationIdentity

    size = ctx.options.alerts_per_batch
    body = alertmanager_payload(size, ctx.options.batch_services)
    integration = IntegrationIdentity(uuid.uuid4(), "bench", IntegrationKind.ALERTMANAGER, None)

    def call() -> None:
        payload = AlertmanagerPayload.model_validate_json(body)
        for alert in payload.alerts:
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


SCENARIOS: list[Scenario] = [
    Scenario("a", "bare constant", bare_constant, stack="baseline"),
    Scenario("b", "bare upsert", bare_upsert, stack="baseline"),
    Scenario("c", "alerts, unique services", alerts_unique_services, stack="platform"),
    Scenario("d", "alerts, hot service", alerts_hot_service, stack="platform"),
    Scenario("e", "alertmanager batches", alertmanager_batches, stack="platform"),
    Scenario(
        "e4",
        "alertmanager batches, 4 connections",
        alertmanager_batches_few_senders,
        stack="platform",
    ),
    Scenario("m1", "parse a batch", parse_alertmanager_batch),
]
