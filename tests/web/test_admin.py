"""Integrations and API tokens (admins) and the stats page in a real browser."""

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.platform import Platform, create_integration
from web.conftest import SCREENSHOTS, assert_accessible, create_token, send_alert, sign_in

pytestmark = pytest.mark.xdist_group("browser")


def test_an_admin_creates_copies_and_revokes_an_integration_key(
    page: Page, platform: Platform
) -> None:
    sign_in(page, platform.admin_token)
    page.get_by_role("link", name="Integrations").click()
    assert_accessible(page)
    page.get_by_label("Integration name").fill("prometheus-eu")
    page.get_by_label("Kind").select_option("generic")
    page.get_by_label("Default service").fill("checkout")
    page.get_by_role("button", name="Create integration").click()
    secret = page.get_by_test_id("secret")
    expect(secret).to_be_visible()
    key = secret.inner_text()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    row = page.get_by_role("row").filter(has_text="prometheus-eu")
    expect(row).to_contain_text("checkout")
    assert key not in row.inner_text()  # the list shows a masked key only
    assert_accessible(page)

    # The key shown once is a working key: an alert sent with it opens an incident.
    sent = httpx.post(
        platform.ingestion.url + "/api/v1/alerts",
        json={"service": "checkout", "summary": "Disk full"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert sent.status_code == 202, sent.text

    page.get_by_role("button", name="Done").click()
    expect(secret).to_have_count(0)
    page.get_by_role("button", name="Revoke prometheus-eu").click()
    expect(row).to_have_count(0)
    refused = httpx.post(
        platform.ingestion.url + "/api/v1/alerts",
        json={"service": "checkout", "summary": "Disk full"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert refused.status_code == 401


def test_an_admin_mints_and_revokes_an_api_token(page: Page, platform: Platform) -> None:
    sign_in(page, platform.admin_token)
    page.get_by_role("link", name="Integrations").click()
    page.get_by_label("Token name").fill("night-shift")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("secret").inner_text()
    row = page.get_by_role("row").filter(has_text="night-shift")
    expect(row).to_contain_text("viewer")
    assert token not in row.inner_text()
    read = httpx.get(
        platform.incidents.url + "/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}
    )
    assert read.status_code == 200

    page.get_by_role("button", name="Revoke night-shift").click()
    expect(row).to_have_count(0)
    listed = httpx.get(platform.incidents.url + "/api/v1/tokens", headers=platform.admin())
    assert "night-shift" not in [t["name"] for t in listed.json()["data"]]


def test_integrations_are_not_offered_to_a_responder(page: Page, platform: Platform) -> None:
    sign_in(page, create_token(platform, "responder"))
    expect(page.get_by_role("link", name="Integrations")).to_have_count(0)
    page.goto("/integrations")
    # An unknown route for this role falls back to the incident list.
    expect(page.get_by_role("heading", name="Incidents", level=1)).to_be_visible()
    expect(page.get_by_label("Integration name")).to_have_count(0)


def test_stats_show_mtta_and_mttr_for_the_period(page: Page, platform: Platform) -> None:
    key = create_integration(platform, "generic")
    first = send_alert(platform, key, "checkout", "Checkout down")
    send_alert(platform, key, "search", "Search down")
    for action in ("acknowledge", "resolve"):
        done = httpx.post(
            f"{platform.incidents.url}/api/v1/incidents/{first['incident_id']}/{action}",
            headers=platform.admin(),
        )
        assert done.status_code == 200, done.text
    sign_in(page, create_token(platform, "viewer"))
    page.get_by_role("link", name="Stats").click()
    expect(
        page.get_by_text("2 incidents: 1 triggered, 0 acknowledged, 1 resolved.")
    ).to_be_visible()
    mtta = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="MTTA"))
    expect(mtta.get_by_role("cell").nth(0)).to_have_text("1")
    mttr = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="MTTR"))
    expect(mttr.get_by_role("cell").nth(0)).to_have_text("1")
    expect(mttr.get_by_role("cell").nth(1)).not_to_have_text("—")
    # Charts per day: today's point (the last one) holds both incidents.
    opened = page.get_by_role("img", name="Incidents per day chart")
    expect(opened).to_be_visible()
    expect(page.get_by_role("img", name="MTTA and MTTR per day chart")).to_be_visible()
    plot = opened.locator(".u-over")
    box = plot.bounding_box()
    assert box is not None
    plot.hover(position={"x": box["width"] - 2, "y": box["height"] / 2})
    legend = opened.locator(".u-legend .u-series").filter(has_text="Incidents opened")
    expect(legend.locator(".u-value")).to_have_text("2")
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "stats.png"), full_page=True)
    page.get_by_label("Period").select_option(label="Last 7 days")
    expect(page).to_have_url(re.compile(r"[?&]days=7"))
