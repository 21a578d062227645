"""The incident list and the incident detail view in a real browser."""

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.platform import Platform, create_integration
from web.conftest import SCREENSHOTS, assert_accessible, create_token, send_alert, sign_in

pytestmark = pytest.mark.xdist_group("browser")


def test_the_list_shows_incidents_newest_first_with_filters_in_the_url(
    page: Page, platform: Platform
) -> None:
    key = create_integration(platform, "generic")
    send_alert(platform, key, "checkout", "Checkout error rate above 5%", severity="critical")
    send_alert(platform, key, "checkout", "Checkout latency p99 above 2 s", severity="warning")
    send_alert(platform, key, "search", "Search index lagging", severity="warning")
    sign_in(page, create_token(platform, "responder"))

    rows = page.locator("table.incidents tbody tr")
    expect(rows).to_have_count(2)
    # Newest first: search opened last. The checkout incident holds two alerts.
    expect(rows.nth(0)).to_contain_text("search")
    expect(rows.nth(1)).to_contain_text("Checkout error rate above 5%")
    expect(rows.nth(1).locator("td").nth(5)).to_have_text("2")
    expect(rows.nth(1)).to_contain_text("critical")
    expect(rows.nth(1)).to_contain_text("triggered")
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "incidents.png"), full_page=True)

    page.get_by_label("Severity").select_option("critical")
    expect(page).to_have_url(re.compile(r"[?&]severity=critical"))
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("checkout")
    # The filter survives a reload because it lives in the URL.
    page.reload()
    expect(page.get_by_label("Severity")).to_have_value("critical")
    expect(rows).to_have_count(1)

    page.goto("/incidents?service=search")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Search index lagging")


def test_load_more_follows_the_keyset_cursor(page: Page, platform: Platform) -> None:
    key = create_integration(platform, "generic")
    for number in range(30):
        send_alert(platform, key, f"service-{number:02d}", f"Alert number {number}")
    sign_in(page, create_token(platform, "viewer"))
    rows = page.locator("table.incidents tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.nth(0)).to_contain_text("service-29")
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(30)
    expect(rows.nth(29)).to_contain_text("service-00")
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)


def test_detail_acknowledge_resolve_reopen_and_notes(page: Page, platform: Platform) -> None:
    key = create_integration(platform, "generic")
    created = send_alert(
        platform,
        key,
        "checkout",
        "Checkout error rate above 5%",
        severity="critical",
        labels={"region": "eu-west-1", "team": "payments"},
    )
    sign_in(page, create_token(platform, "responder", name="pat"))
    page.get_by_role("link", name="Checkout error rate above 5%").click()
    expect(page).to_have_url(re.compile(f"/incidents/{created['incident_id']}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Checkout error rate above 5%")
    expect(page.get_by_text("region=eu-west-1")).to_be_visible()
    status = page.get_by_test_id("incident-status")
    expect(status).to_have_text("triggered")
    expect(page.get_by_role("button", name="Reopen")).to_have_count(0)

    page.get_by_role("button", name="Acknowledge").click()
    expect(status).to_have_text("acknowledged")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(page.locator(".timeline li[data-kind=acknowledged]")).to_contain_text("pat")
    assert page.get_by_text("Time to acknowledge").is_visible()

    page.get_by_label("Note").fill("Rolled back the 14:02 deploy")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".timeline li[data-kind=note]")).to_contain_text(
        "Rolled back the 14:02 deploy"
    )
    expect(page.get_by_label("Note")).to_have_value("")

    page.get_by_label("Assignee").fill("alice")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".facts")).to_contain_text("alice")
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "incident-detail.png"), full_page=True)

    page.get_by_role("button", name="Resolve").click()
    expect(status).to_have_text("resolved")
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    page.get_by_role("button", name="Reopen").click()
    expect(status).to_have_text("triggered")
    expect(page.locator(".timeline li[data-kind=reopened]")).to_have_count(1)

    # What the page showed is what the server holds.
    detail = httpx.get(
        f"{platform.incidents.url}/api/v1/incidents/{created['incident_id']}",
        headers=platform.admin(),
    ).json()
    assert detail["status"] == "triggered"
    assert detail["assignee"] == "alice"
    kinds = [event["kind"] for event in detail["timeline"]]
    assert {"acknowledged", "note", "resolved", "reopened", "assigned"} <= set(kinds)


def test_a_conflict_shows_a_message_and_refreshes_the_view(page: Page, platform: Platform) -> None:
    key = create_integration(platform, "generic")
    created = send_alert(platform, key, "checkout", "Checkout down")
    sign_in(page, create_token(platform, "responder"))
    page.goto(f"/incidents/{created['incident_id']}")
    expect(page.get_by_role("button", name="Acknowledge")).to_be_visible()

    # Someone else resolves it first, behind this page's back, while live updates are cut.
    page.route("**/api/v1/events*", lambda route: route.abort())
    page.reload()
    expect(page.get_by_role("button", name="Acknowledge")).to_be_visible()
    response = httpx.post(
        f"{platform.incidents.url}/api/v1/incidents/{created['incident_id']}/resolve",
        headers=platform.admin(),
    )
    assert response.status_code == 200, response.text

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else acted first")
    expect(page.get_by_role("alert")).to_contain_text("resolved")
    expect(page.get_by_test_id("incident-status")).to_have_text("resolved")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()


def test_a_viewer_sees_no_action_buttons(page: Page, platform: Platform) -> None:
    key = create_integration(platform, "generic")
    created = send_alert(platform, key, "checkout", "Checkout down")
    sign_in(page, create_token(platform, "viewer"))
    page.goto(f"/incidents/{created['incident_id']}")
    expect(page.get_by_test_id("incident-status")).to_have_text("triggered")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    for name in ("Acknowledge", "Resolve", "Reopen", "Add note", "Assign"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_label("Note")).to_have_count(0)
    assert_accessible(page)
