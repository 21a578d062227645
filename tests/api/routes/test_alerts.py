import httpx

from support.database import connect
from support.platform import Platform

ALERT = {"service": "checkout", "summary": "Error rate above 5%", "severity": "high"}


def post(ingest: httpx.Client, auth: dict[str, str], **overrides: object) -> httpx.Response:
    return ingest.post("/api/v1/alerts", json={**ALERT, **overrides}, headers=auth)


def count(platform: Platform, table: str) -> int:
    with connect(platform.database_url) as connection:
        row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(str(row[0]))


def test_first_alert_opens_an_incident(ingest: httpx.Client, generic_auth: dict[str, str]) -> None:
    response = post(ingest, generic_auth)
    assert response.status_code == 202
    body = response.json()
    assert body["action"] == "created"
    assert isinstance(body["alert_id"], int)
    assert isinstance(body["incident_id"], int)


def test_same_alert_again_is_deduplicated_and_counted(
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    platform: Platform,
    incidents_api: httpx.Client,
) -> None:
    first = post(ingest, generic_auth).json()
    second = post(ingest, generic_auth).json()
    assert second == {**first, "action": "deduplicated"}
    detail = incidents_api.get(f"/api/v1/incidents/{first['incident_id']}").json()
    assert detail["alert_count"] == 1
    assert detail["alerts"][0]["occurrences"] == 2
    assert count(platform, "alerts") == 1


def test_other_alert_of_the_service_joins_the_open_incident_and_raises_severity(
    ingest: httpx.Client, generic_auth: dict[str, str], incidents_api: httpx.Client
) -> None:
    first = post(ingest, generic_auth, severity="warning").json()
    second = post(ingest, generic_auth, summary="Latency p99 > 2s", severity="critical").json()
    assert second["action"] == "attached"
    assert second["incident_id"] == first["incident_id"]
    incident = incidents_api.get(f"/api/v1/incidents/{first['incident_id']}").json()
    assert incident["severity"] == "critical"
    assert incident["alert_count"] == 2
    kinds = [entry["kind"] for entry in incident["timeline"]]
    assert kinds == ["created", "alert_attached", "severity_changed"]


def test_less_severe_alert_does_not_lower_severity(
    ingest: httpx.Client, generic_auth: dict[str, str], incidents_api: httpx.Client
) -> None:
    first = post(ingest, generic_auth, severity="critical").json()
    post(ingest, generic_auth, summary="minor", severity="info")
    incident = incidents_api.get(f"/api/v1/incidents/{first['incident_id']}").json()
    assert incident["severity"] == "critical"


def test_other_service_gets_its_own_incident(
    ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    first = post(ingest, generic_auth).json()
    other = post(ingest, generic_auth, service="search").json()
    assert other["action"] == "created"
    assert other["incident_id"] != first["incident_id"]


def test_resolving_every_alert_auto_resolves_the_incident(
    ingest: httpx.Client, generic_auth: dict[str, str], incidents_api: httpx.Client
) -> None:
    one = post(ingest, generic_auth, fingerprint="one").json()
    post(ingest, generic_auth, fingerprint="two", summary="second")
    assert post(ingest, generic_auth, fingerprint="one", status="resolved").json()["action"] == (
        "resolved"
    )
    assert incidents_api.get(f"/api/v1/incidents/{one['incident_id']}").json()["status"] == (
        "triggered"
    )
    post(ingest, generic_auth, fingerprint="two", summary="second", status="resolved")
    incident = incidents_api.get(f"/api/v1/incidents/{one['incident_id']}").json()
    assert incident["status"] == "resolved"
    assert incident["resolved_at"] is not None
    auto = [entry for entry in incident["timeline"] if entry["kind"] == "auto_resolved"]
    assert len(auto) == 1
    assert "all 2 alerts resolved" in auto[0]["message"]


def test_resolve_for_unknown_alert_is_ignored(
    ingest: httpx.Client, generic_auth: dict[str, str], platform: Platform
) -> None:
    response = post(ingest, generic_auth, fingerprint="nope", status="resolved")
    assert response.status_code == 202
    assert response.json() == {"alert_id": None, "incident_id": None, "action": "ignored"}
    assert count(platform, "incidents") == 0


def test_resolved_incident_never_takes_new_alerts(
    ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    first = post(ingest, generic_auth, fingerprint="x").json()
    post(ingest, generic_auth, fingerprint="x", status="resolved")
    again = post(ingest, generic_auth, fingerprint="x").json()
    assert again["action"] == "created"
    assert again["incident_id"] != first["incident_id"]
    assert again["alert_id"] != first["alert_id"]


def test_fingerprint_is_derived_from_service_summary_and_labels(
    ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    first = post(ingest, generic_auth, labels={"a": "1", "b": "2"}).json()
    same = post(ingest, generic_auth, labels={"b": "2", "a": "1"}).json()
    different = post(ingest, generic_auth, labels={"a": "1", "b": "3"}).json()
    assert same["action"] == "deduplicated"
    assert different["action"] == "attached"
    assert different["alert_id"] != first["alert_id"]


def test_bad_fields_are_422_naming_the_field_and_nothing_is_written(
    ingest: httpx.Client, generic_auth: dict[str, str], platform: Platform
) -> None:
    cases: dict[str, dict[str, object]] = {
        "service": {"service": ""},
        "severity": {"severity": "disaster"},
        "status": {"status": "exploded"},
        "labels": {"labels": ["not", "a", "map"]},
        "summary": {"summary": "x" * 1025},
    }
    for field, bad in cases.items():
        response = post(ingest, generic_auth, **bad)
        assert response.status_code == 422, field
        locations = [error["loc"][-1] for error in response.json()["detail"]]
        assert field in locations
    missing = ingest.post("/api/v1/alerts", json={"summary": "x"}, headers=generic_auth)
    assert missing.status_code == 422
    assert ["body", "service"] in [error["loc"] for error in missing.json()["detail"]]
    malformed = ingest.post(
        "/api/v1/alerts",
        content=b'{"service": "a", ',
        headers={**generic_auth, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 422
    assert count(platform, "alerts") == 0
    assert count(platform, "incidents") == 0


def test_body_over_one_mebibyte_is_413(
    ingest: httpx.Client, generic_auth: dict[str, str], platform: Platform
) -> None:
    huge = {**ALERT, "description": "x" * (1024 * 1024)}
    assert ingest.post("/api/v1/alerts", json=huge, headers=generic_auth).status_code == 413

    def chunks() -> object:
        yield b'{"service": "a", "summary": "b", "description": "'
        for _ in range(1100):
            yield b"y" * 1024
        yield b'"}'

    streamed = ingest.post(
        "/api/v1/alerts",
        content=chunks(),  # type: ignore[arg-type]
        headers={**generic_auth, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    assert count(platform, "alerts") == 0


def test_list_alerts_filters_and_paginates(
    ingest: httpx.Client, generic_auth: dict[str, str], platform: Platform
) -> None:
    for number in range(5):
        post(ingest, generic_auth, service="a", summary=f"alert {number}")
    post(ingest, generic_auth, service="b")
    viewer = platform.admin()
    page = ingest.get("/api/v1/alerts?service=a&limit=2", headers=viewer).json()
    assert [a["summary"] for a in page["data"]] == ["alert 4", "alert 3"]
    seen = [a["summary"] for a in page["data"]]
    while page["next_cursor"]:
        page = ingest.get(
            f"/api/v1/alerts?service=a&limit=2&cursor={page['next_cursor']}", headers=viewer
        ).json()
        seen += [a["summary"] for a in page["data"]]
    assert seen == [f"alert {n}" for n in range(4, -1, -1)]
    firing = ingest.get("/api/v1/alerts?status=firing", headers=viewer).json()
    assert firing["count"] == 6
    assert ingest.get(
        "/api/v1/alerts", params={"cursor": "garbage"}, headers=viewer
    ).status_code == (422)
