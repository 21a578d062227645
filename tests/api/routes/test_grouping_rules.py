"""Grouping rules over the real ingestion service: the API, and what they do to alerts."""

import asyncio
from typing import Any

import httpx
import pytest

from support.database import connect
from support.platform import Platform

RULES = "/api/v1/grouping-rules"


def make_token(platform: Platform, role: str) -> dict[str, str]:
    response = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": f"grouping-{role}", "role": role},
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def by_cluster(**extra: Any) -> dict[str, Any]:
    return {
        "name": "db-by-cluster",
        "matchers": [{"name": "team", "value": "db", "isRegex": False}],
        "group_by": ["cluster"],
        **extra,
    }


def create_rule(ingest: httpx.Client, platform: Platform, body: dict[str, Any]) -> dict[str, Any]:
    response = ingest.post(RULES, json=body, headers=platform.admin())
    assert response.status_code == 201, response.text
    return dict(response.json())


def fire(ingest: httpx.Client, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = ingest.post(
        "/api/v1/alerts", json={"service": "postgres", "summary": "x", **body}, headers=auth
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def incident_of(platform: Platform, incident_id: int) -> dict[str, Any]:
    response = httpx.get(
        f"{platform.incidents.url}/api/v1/incidents/{incident_id}", headers=platform.admin()
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_crud_and_listing_in_matching_order(ingest: httpx.Client, platform: Platform) -> None:
    viewer = make_token(platform, "viewer")
    first = create_rule(ingest, platform, by_cluster(priority=1))
    assert first["group_by"] == ["cluster"]
    assert first["window_minutes"] is None
    second = create_rule(ingest, platform, by_cluster(name="all-db", priority=5))
    listed = ingest.get(RULES, headers=viewer).json()
    assert [r["name"] for r in listed["data"]] == ["all-db", "db-by-cluster"]
    replaced = ingest.put(
        f"{RULES}/{first['id']}", json=by_cluster(window_minutes=15), headers=platform.admin()
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["window_minutes"] == 15
    assert replaced.json()["priority"] == 0
    assert ingest.get(f"{RULES}/{first['id']}", headers=viewer).json()["window_minutes"] == 15
    assert ingest.delete(f"{RULES}/{second['id']}", headers=platform.admin()).status_code == 204
    assert ingest.get(f"{RULES}/{second['id']}", headers=viewer).status_code == 404
    assert ingest.delete(f"{RULES}/{second['id']}", headers=platform.admin()).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"matchers": []}, "matchers"),
        ({"matchers": [{"name": "", "value": "x", "isRegex": False}]}, "name"),
        ({"matchers": [{"name": "a", "value": "(", "isRegex": True}]}, "matchers"),
        ({"group_by": ["not a label"]}, "group_by"),
        ({"group_by": ["cluster", "cluster"]}, "group_by"),
        ({"window_minutes": 0}, "window_minutes"),
        ({"name": "has/slash"}, "name"),
        ({"priority": "high"}, "priority"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    ingest: httpx.Client, platform: Platform, change: dict[str, Any], field: str
) -> None:
    response = ingest.post(RULES, json=by_cluster(**change), headers=platform.admin())
    assert response.status_code == 422, response.text
    assert any(field in error["loc"] for error in response.json()["detail"]), response.text
    assert ingest.get(RULES, headers=platform.admin()).json()["count"] == 0


def test_duplicate_names_conflict_and_writes_need_an_admin(
    ingest: httpx.Client, platform: Platform
) -> None:
    rule = create_rule(ingest, platform, by_cluster())
    again = ingest.post(RULES, json=by_cluster(), headers=platform.admin())
    assert again.status_code == 409
    other = create_rule(ingest, platform, by_cluster(name="other"))
    renamed = ingest.put(f"{RULES}/{other['id']}", json=by_cluster(), headers=platform.admin())
    assert renamed.status_code == 409
    # The name the rename asked for, which is taken; not the rule's own old name.
    assert renamed.json()["detail"]["name"] == by_cluster()["name"]
    responder = make_token(platform, "responder")
    assert ingest.post(RULES, json=by_cluster(name="x"), headers=responder).status_code == 403
    assert ingest.delete(f"{RULES}/{rule['id']}", headers=responder).status_code == 403
    assert ingest.get(RULES).status_code == 401
    assert ingest.get(RULES, headers=platform.admin()).json()["count"] == 2


def test_alerts_group_by_the_rules_labels_across_services(
    ingest: httpx.Client, platform: Platform, generic_auth: dict[str, str]
) -> None:
    create_rule(ingest, platform, by_cluster())
    eu = fire(ingest, generic_auth, service="postgres", labels={"team": "db", "cluster": "eu"})
    eu2 = fire(ingest, generic_auth, service="redis", labels={"team": "db", "cluster": "eu"})
    us = fire(ingest, generic_auth, service="postgres", labels={"team": "db", "cluster": "us"})
    none = fire(ingest, generic_auth, service="postgres", labels={"team": "db"})
    plain = fire(ingest, generic_auth, service="postgres", labels={"team": "web"})
    assert [eu["action"], eu2["action"], us["action"], none["action"]] == [
        "created",
        "attached",
        "created",
        "created",
    ]
    assert eu["incident_id"] == eu2["incident_id"] != us["incident_id"]
    incident = incident_of(platform, eu["incident_id"])
    assert incident["group_key"] == 'rule:db-by-cluster/cluster="eu"'
    assert incident["grouping_rule"] == "db-by-cluster"
    assert incident_of(platform, none["incident_id"])["group_key"] == (
        'rule:db-by-cluster/cluster=""'
    )
    # No rule matches: the service's own incident, apart from the rule's groups.
    default = incident_of(platform, plain["incident_id"])
    assert plain["action"] == "created"
    assert (default["group_key"], default["grouping_rule"]) == ("service:postgres", None)


def test_the_highest_priority_rule_wins_ties_by_name(
    ingest: httpx.Client, platform: Platform, generic_auth: dict[str, str]
) -> None:
    create_rule(ingest, platform, by_cluster(name="low", priority=1))
    create_rule(ingest, platform, by_cluster(name="b-high", priority=9, group_by=[]))
    create_rule(ingest, platform, by_cluster(name="a-high", priority=9, group_by=["region"]))
    created = fire(ingest, generic_auth, labels={"team": "db", "cluster": "eu", "region": "w"})
    incident = incident_of(platform, created["incident_id"])
    assert (incident["grouping_rule"], incident["group_key"]) == (
        "a-high",
        'rule:a-high/region="w"',
    )


def test_a_time_window_opens_a_new_incident_once_the_newest_alert_is_older(
    ingest: httpx.Client, platform: Platform, generic_auth: dict[str, str]
) -> None:
    create_rule(ingest, platform, by_cluster(window_minutes=10))
    labels = {"team": "db", "cluster": "eu"}
    first = fire(ingest, generic_auth, labels=labels, fingerprint="w1")
    second = fire(ingest, generic_auth, labels=labels, fingerprint="w2")
    assert second["incident_id"] == first["incident_id"]
    with connect(platform.database_url) as connection:
        # The newest alert came 9 minutes ago: still within the window.
        connection.execute(
            "UPDATE alerts SET created_at = now() - interval '9 minutes' WHERE incident_id = %s",
            (first["incident_id"],),
        )
    third = fire(ingest, generic_auth, labels=labels, fingerprint="w3")
    assert third["incident_id"] == first["incident_id"]
    with connect(platform.database_url) as connection:
        connection.execute(
            "UPDATE alerts SET created_at = now() - interval '11 minutes' WHERE incident_id = %s",
            (first["incident_id"],),
        )
    fourth = fire(ingest, generic_auth, labels=labels, fingerprint="w4")
    assert fourth["action"] == "created"
    fifth = fire(ingest, generic_auth, labels=labels, fingerprint="w5")
    assert fifth["incident_id"] == fourth["incident_id"] != first["incident_id"]
    old, new = (
        incident_of(platform, first["incident_id"]),
        incident_of(platform, fourth["incident_id"]),
    )
    assert old["status"] == new["status"] == "triggered"
    assert old["group_key"] == new["group_key"] == 'rule:db-by-cluster/cluster="eu"'
    assert old["alert_count"] == 3
    assert new["alert_count"] == 2


async def _burst(url: str, auth: dict[str, str], bodies: list[dict[str, Any]]) -> list[int]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, headers=auth, limits=limits, timeout=60) as client:
        responses = await asyncio.gather(
            *(client.post("/api/v1/alerts", json=body) for body in bodies)
        )
    return [response.status_code for response in responses]


def test_concurrent_alerts_of_one_group_open_one_incident_distinct_groups_one_each(
    ingest: httpx.Client, platform: Platform, generic_auth: dict[str, str]
) -> None:
    create_rule(ingest, platform, by_cluster())
    one_group = [
        {"service": f"svc-{n % 7}", "summary": f"s{n}", "labels": {"team": "db", "cluster": "hot"}}
        for n in range(120)
    ]
    distinct = [
        {"service": "pg", "summary": f"d{n}", "labels": {"team": "db", "cluster": f"c{n % 20}"}}
        for n in range(60)
    ]
    statuses = asyncio.run(_burst(platform.ingestion.url, generic_auth, one_group + distinct))
    assert statuses == [202] * 180
    with connect(platform.database_url) as connection:
        rows = connection.execute(
            "SELECT group_key, count(*), sum(alert_count) FROM incidents"
            " WHERE status = 'triggered' GROUP BY group_key ORDER BY group_key"
        ).fetchall()
    groups = {key: (count, alerts) for key, count, alerts in rows}
    assert groups.pop('rule:db-by-cluster/cluster="hot"') == (1, 120)
    assert groups == {f'rule:db-by-cluster/cluster="c{n}"': (1, 3) for n in range(20)}
