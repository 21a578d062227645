from datetime import UTC, datetime, timedelta

import httpx
import pytest

from support.database import connect
from support.platform import Platform


def open_incident(ingest: httpx.Client, auth: dict[str, str], service: str) -> int:
    response = ingest.post(
        "/api/v1/alerts", json={"service": service, "summary": f"{service} down"}, headers=auth
    )
    assert response.status_code == 202, response.text
    return int(response.json()["incident_id"])


def test_stats_compute_mtta_and_mttr(
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
    platform: Platform,
) -> None:
    ids = [open_incident(ingest, generic_auth, f"s{n}") for n in range(3)]
    for incident_id in ids[:2]:
        incidents_api.post(f"/api/v1/incidents/{incident_id}/acknowledge")
    incidents_api.post(f"/api/v1/incidents/{ids[0]}/resolve")
    # Known durations: acknowledged after 60 s and 120 s, resolved after 600 s.
    with connect(platform.database_url) as connection:
        for incident_id, ack, res in ((ids[0], 60, 600), (ids[1], 120, None)):
            connection.execute(
                "UPDATE incidents SET created_at = now() - interval '1 hour',"
                " acknowledged_at = now() - interval '1 hour' + make_interval(secs => %s),"
                " resolved_at = CASE WHEN %s::int IS NULL THEN NULL"
                "   ELSE now() - interval '1 hour' + make_interval(secs => %s) END"
                " WHERE id = %s",
                (ack, res, res or 0, incident_id),
            )
    stats = incidents_api.get(
        "/api/v1/stats", params={"since": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    ).json()
    assert (stats["total"], stats["triggered"], stats["acknowledged"], stats["resolved"]) == (
        3,
        1,
        1,
        1,
    )
    assert stats["mtta"]["count"] == 2
    assert stats["mtta"]["mean_seconds"] == pytest.approx(90, abs=0.01)
    assert stats["mtta"]["p50_seconds"] == pytest.approx(90, abs=0.01)
    assert stats["mtta"]["p90_seconds"] == pytest.approx(114, abs=0.01)
    assert stats["mttr"]["count"] == 1
    assert stats["mttr"]["mean_seconds"] == pytest.approx(600, abs=0.01)
    later = incidents_api.get("/api/v1/stats", params={"since": "2100-01-01T00:00:00Z"}).json()
    assert later["total"] == 0
    assert later["mtta"]["mean_seconds"] is None


def test_stats_default_to_the_last_30_days(
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
    platform: Platform,
) -> None:
    before = incidents_api.get("/api/v1/stats").json()
    recent, old = (open_incident(ingest, generic_auth, f"window-{n}") for n in range(2))
    with connect(platform.database_url) as connection:
        connection.execute(
            "UPDATE incidents SET created_at = now() - interval '29 days' WHERE id = %s", (recent,)
        )
        connection.execute(
            "UPDATE incidents SET created_at = now() - interval '31 days' WHERE id = %s", (old,)
        )
    after = incidents_api.get("/api/v1/stats")
    assert after.status_code == 200, after.text
    assert after.json()["total"] == before["total"] + 1
    assert after.json()["triggered"] == before["triggered"] + 1
    since = datetime.fromisoformat(after.json()["since"])
    assert abs(datetime.now(UTC) - since - timedelta(days=30)) < timedelta(minutes=5)


def test_stats_refuse_more_than_366_days_naming_since(incidents_api: httpx.Client) -> None:
    too_old = (datetime.now(UTC) - timedelta(days=367)).isoformat()
    response = incidents_api.get("/api/v1/stats", params={"since": too_old})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "since"]
    in_range = (datetime.now(UTC) - timedelta(days=365)).isoformat()
    assert incidents_api.get("/api/v1/stats", params={"since": in_range}).status_code == 200


def test_stats_need_a_credential(platform: Platform) -> None:
    assert httpx.get(platform.incidents.url + "/api/v1/stats").status_code == 401


def test_daily_stats_count_each_incident_on_its_local_day(
    ingest: httpx.Client,
    generic_auth: dict[str, str],
    incidents_api: httpx.Client,
    platform: Platform,
) -> None:
    ids = [open_incident(ingest, generic_auth, f"s{n}") for n in range(3)]
    # 2026-03-28 23:30 UTC is already 2026-03-29 in Paris; the others are on the 28th there.
    timings = (
        (ids[0], "2026-03-28T10:00:00Z", 60, 600),
        (ids[1], "2026-03-28T12:00:00Z", 120, None),
        (ids[2], "2026-03-28T23:30:00Z", None, None),
    )
    with connect(platform.database_url) as connection:
        for incident_id, created, ack, res in timings:
            connection.execute(
                "UPDATE incidents SET created_at = %s::timestamptz,"
                " acknowledged_at = %s::timestamptz + make_interval(secs => %s),"
                " resolved_at = %s::timestamptz + make_interval(secs => %s)"
                " WHERE id = %s",
                (
                    created,
                    created if ack else None,
                    ack or 0,
                    created if res else None,
                    res or 0,
                    incident_id,
                ),
            )
    window = {"since": "2026-03-27T23:00:00Z", "until": "2026-03-30T22:00:00Z"}

    paris = incidents_api.get("/api/v1/stats/daily", params={**window, "tz": "Europe/Paris"})
    assert paris.status_code == 200, paris.text
    days = paris.json()["days"]
    assert [(d["day"], d["opened"]) for d in days] == [
        ("2026-03-28", 2),
        ("2026-03-29", 1),
        ("2026-03-30", 0),
    ]
    assert days[0]["mtta"]["count"] == 2
    assert days[0]["mtta"]["mean_seconds"] == pytest.approx(90)
    assert days[0]["mttr"]["mean_seconds"] == pytest.approx(600)
    assert days[1]["mtta"]["mean_seconds"] is None

    utc = incidents_api.get("/api/v1/stats/daily", params={**window, "tz": "UTC"}).json()["days"]
    assert [(d["day"], d["opened"]) for d in utc] == [
        ("2026-03-27", 0),
        ("2026-03-28", 3),
        ("2026-03-29", 0),
        ("2026-03-30", 0),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "since"),
        ({"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
    ],
)
def test_bad_daily_stats_queries_are_422_naming_the_field(
    incidents_api: httpx.Client, params: dict[str, str], field: str
) -> None:
    response = incidents_api.get("/api/v1/stats/daily", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_daily_stats_need_a_credential(platform: Platform) -> None:
    assert httpx.get(platform.incidents.url + "/api/v1/stats/daily").status_code == 401
