import time

import httpx
import pytest

from support.database import connect
from support.platform import Platform, create_integration


def test_created_key_works_once_shown_and_is_stored_hashed(
    platform: Platform, ingest: httpx.Client
) -> None:
    key = create_integration(platform, "generic", name="scripts")
    listed = ingest.get("/api/v1/integrations", headers=platform.admin()).json()
    assert listed["count"] == 1
    entry = listed["data"][0]
    assert entry["name"] == "scripts"
    assert key not in str(listed)
    assert entry["key_masked"].endswith("…")
    with connect(platform.database_url) as connection:
        stored = str(connection.execute("SELECT * FROM integrations").fetchall())
    assert key not in stored
    alert = {"service": "a", "summary": "b"}
    response = ingest.post("/api/v1/alerts", json=alert, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 202


def test_revoked_key_stops_working(platform: Platform, ingest: httpx.Client) -> None:
    key = create_integration(platform, "generic")
    integration_id = ingest.get("/api/v1/integrations", headers=platform.admin()).json()["data"][0][
        "id"
    ]
    revoked = ingest.delete(f"/api/v1/integrations/{integration_id}", headers=platform.admin())
    assert revoked.status_code == 204
    assert ingest.get("/api/v1/integrations", headers=platform.admin()).json()["count"] == 0
    # Revocation is immediate in the worker that revoked and within the cache
    # lifetime (5 s) in the others: poll rather than sleep a fixed time.
    alert = {"service": "a", "summary": "b"}
    for _ in range(100):
        status = ingest.post(
            "/api/v1/alerts", json=alert, headers={"Authorization": f"Bearer {key}"}
        ).status_code
        if status == 401:
            break
        time.sleep(0.1)
    assert status == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "smoke-signal"}, "kind"),
        ({"kind": "generic"}, "name"),
        ({"name": " ", "kind": "generic"}, "name"),
    ],
)
def test_bad_integration_is_422_naming_the_field(
    platform: Platform, ingest: httpx.Client, body: dict[str, str], field: str
) -> None:
    response = ingest.post("/api/v1/integrations", json=body, headers=platform.admin())
    assert response.status_code == 422
    assert field in [error["loc"][-1] for error in response.json()["detail"]]
