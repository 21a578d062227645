"""Live updates: incident changes reach open pages over the event stream, without a reload."""

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.platform import Platform, create_integration
from web.conftest import create_token, send_alert, sign_in

pytestmark = pytest.mark.xdist_group("browser")


def mark_document(page: Page) -> None:
    """A flag that a reload or navigation would wipe out."""
    page.evaluate("window.__notReloaded = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__notReloaded === true")


def test_a_new_incident_appears_in_the_open_list(page: Page, platform: Platform) -> None:
    key = create_integration(platform, "generic")
    send_alert(platform, key, "checkout", "Checkout down")
    sign_in(page, create_token(platform, "viewer"))
    rows = page.locator("table.incidents tbody tr")
    expect(rows).to_have_count(1)
    expect(page.get_by_title("Live updates")).to_have_text("Live")
    mark_document(page)

    send_alert(platform, key, "search", "Search index lagging", severity="high")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Search index lagging")
    # A change to an incident already listed shows as well: its alert count rises.
    send_alert(platform, key, "checkout", "Checkout latency high")
    expect(rows.nth(1).locator("td").nth(5)).to_have_text("2")
    assert_not_reloaded(page)


def test_the_open_detail_view_follows_changes_made_elsewhere(
    page: Page, platform: Platform
) -> None:
    key = create_integration(platform, "generic")
    created = send_alert(platform, key, "checkout", "Checkout down")
    incident = created["incident_id"]
    sign_in(page, create_token(platform, "viewer"))
    page.goto(f"/incidents/{incident}")
    expect(page.get_by_title("Live updates")).to_have_text("Live")
    expect(page.get_by_role("heading", name="Alerts (1)")).to_be_visible()
    mark_document(page)

    send_alert(platform, key, "checkout", "Checkout latency high")
    expect(page.get_by_role("heading", name="Alerts (2)")).to_be_visible()
    expect(page.locator(".timeline li[data-kind=alert_attached]")).to_have_count(1)

    acknowledged = httpx.post(
        f"{platform.incidents.url}/api/v1/incidents/{incident}/acknowledge",
        headers=platform.admin(),
    )
    assert acknowledged.status_code == 200, acknowledged.text
    expect(page.get_by_test_id("incident-status")).to_have_text("acknowledged")
    expect(page.locator(".timeline li[data-kind=acknowledged]")).to_contain_text("admin")
    assert_not_reloaded(page)
