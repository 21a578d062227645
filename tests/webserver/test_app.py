"""The web server in front of the real services: the bundle, routing to each service, and
its own answers (forwarding itself: test_proxy)."""

import httpx
import pytest

from incident_platform.web.headers import SECURITY_HEADERS
from support.platform import Platform
from support.services import ServiceProcess
from webserver.conftest import INDEX_HTML, SCRIPT


def assert_security_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_list(name) == [value], name


def test_the_bundle_is_served_with_client_side_routes_falling_back_to_index(
    web: httpx.Client,
) -> None:
    for path in ("/", "/incidents", "/incidents/12", "/schedules/3?from=x"):
        response = web.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX_HTML
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"
        assert_security_headers(response)
    script = web.get("/assets/index-abc123.js")
    assert script.status_code == 200
    assert script.text == SCRIPT
    assert "immutable" in script.headers["cache-control"]
    assert_security_headers(script)


def test_a_missing_file_is_a_404_not_the_index(web: httpx.Client) -> None:
    for path in ("/assets/index-old999.js", "/robots.txt"):
        response = web.get(path)
        assert response.status_code == 404, path
        assert INDEX_HTML not in response.text
        assert_security_headers(response)


def test_files_outside_the_bundle_are_not_served(web: httpx.Client) -> None:
    response = web.get("/%2e%2e/%2e%2e/etc/passwd")
    assert "root:" not in response.text
    assert response.status_code in (200, 404)
    assert_security_headers(response)


def test_an_unknown_api_path_is_a_json_404(web: httpx.Client) -> None:
    response = web.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert_security_headers(response)


def test_the_web_server_answers_healthz_itself(web: httpx.Client) -> None:
    response = web.get("/healthz")
    assert response.json() == {"status": "ok"}
    assert_security_headers(response)


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/v1/alerts", "ingestion"),
        ("/api/v1/integrations", "ingestion"),
        ("/api/v1/incidents", "incidents"),
        ("/api/v1/tokens", "incidents"),
        ("/api/v1/stats?since=2026-01-01T00:00:00Z", "incidents"),
        ("/api/v1/users", "oncall"),
        ("/api/v1/schedules", "oncall"),
        ("/api/v1/escalation-policies", "oncall"),
    ],
)
def test_each_api_path_reaches_the_service_that_owns_it(
    web: httpx.Client, platform: Platform, path: str, service: str
) -> None:
    owner: ServiceProcess = getattr(platform, service)
    direct = httpx.get(owner.url + path, headers=platform.admin(), timeout=30)
    through = web.get(path, headers=platform.admin())
    assert direct.status_code == 200, direct.text
    assert through.status_code == 200, through.text
    assert through.json() == direct.json()
    assert_security_headers(through)


def test_non_get_on_a_page_is_refused(web: httpx.Client) -> None:
    response = web.post("/incidents", content=b"x")
    assert response.status_code == 405
    assert_security_headers(response)
