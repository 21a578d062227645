"""On-call, schedules, escalation policies and services pages in a real browser."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.oncall import create_policy, create_schedule, create_user, daily_schedule, route
from support.platform import Platform, create_integration
from web.conftest import SCREENSHOTS, assert_accessible, create_token, send_alert, sign_in

pytestmark = pytest.mark.xdist_group("browser")
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")  # the browser context's zone (conftest)


@pytest.fixture
def oncall(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.oncall.url, headers=platform.admin(), timeout=30) as api:
        yield api


def setup_rotation(oncall: httpx.Client) -> dict[str, str]:
    alice = create_user(oncall, "alice")
    bob = create_user(oncall, "bob")
    schedule = create_schedule(oncall, daily_schedule("Primary", [alice, bob]))
    policy = create_policy(
        oncall,
        "Checkout",
        [
            {"delay_minutes": 0, "targets": [{"type": "schedule", "id": schedule}]},
            {"delay_minutes": 5, "targets": [{"type": "user", "id": bob}]},
        ],
    )
    route(oncall, "checkout", policy)
    return {"alice": alice, "bob": bob, "schedule": schedule, "policy": policy}


def on_call_now(oncall: httpx.Client, schedule: str) -> dict[str, str]:
    body: dict[str, dict[str, str]] = oncall.get(f"/api/v1/schedules/{schedule}/oncall").json()
    return body["user"]


def test_on_call_shows_who_is_on_call_per_schedule_and_service(
    page: Page, platform: Platform, oncall: httpx.Client
) -> None:
    ids = setup_rotation(oncall)
    now = on_call_now(oncall, ids["schedule"])
    key = create_integration(platform, "generic")
    send_alert(platform, key, "checkout", "Checkout down")
    sign_in(page, create_token(platform, "viewer"))
    page.get_by_role("link", name="On-call").click()
    schedule_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Primary"))
    expect(schedule_row).to_contain_text(now["name"])
    expect(schedule_row).to_contain_text("Europe/Paris")  # until when, in the schedule's zone
    service_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="checkout"))
    expect(service_row).to_contain_text("Checkout")
    expect(service_row).to_contain_text(now["name"])
    assert_accessible(page)


def test_schedules_timeline_in_the_schedule_zone_and_override_creation(
    page: Page, platform: Platform, oncall: httpx.Client
) -> None:
    ids = setup_rotation(oncall)
    sign_in(page, create_token(platform, "responder"))
    page.get_by_role("link", name="Schedules").click()
    days = page.get_by_role("list", name="Primary: next 14 days").get_by_role("listitem")
    expect(days).to_have_count(14)
    # Handoffs are at 09:00 Paris time, shown as such although the browser is in New York;
    # the hover text also gives the viewer's own zone.
    handoff = page.locator(".shift", has_text="09:00").first
    expect(handoff).to_be_visible()
    title = handoff.get_attribute("title") or ""
    assert "Europe/Paris" in title
    assert "America/New_York" in title
    start = datetime.fromisoformat(handoff.get_attribute("data-start") or "")
    assert start.astimezone(PARIS).strftime("%H:%M") == "09:00"
    assert start.astimezone(NEW_YORK).strftime("%H:%M") in title  # e.g. 03:00, or 04:00
    assert_accessible(page)

    # A responder takes over tomorrow 12:00-18:00 Paris time for bob or alice.
    tomorrow = (datetime.now(PARIS) + timedelta(days=1)).date()
    whoever = "bob"
    page.get_by_label("Override user").select_option(label=whoever)
    page.get_by_label("Override start").fill(f"{tomorrow.isoformat()}T12:00")
    page.get_by_label("Override end").fill(f"{tomorrow.isoformat()}T18:00")
    page.get_by_role("button", name="Create override").click()
    expect(page.get_by_role("status")).to_have_text("Override created.")
    overrides = oncall.get(f"/api/v1/schedules/{ids['schedule']}/overrides").json()["data"]
    assert len(overrides) == 1
    start = datetime.fromisoformat(overrides[0]["start"])
    assert start == datetime(tomorrow.year, tomorrow.month, tomorrow.day, 12, tzinfo=PARIS)
    assert overrides[0]["user"] == ids[whoever]
    # The timeline now shows the override as its own shift starting at 12:00.
    expect(page.locator(".shift.layer-override", has_text=f"12:00 {whoever}")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "schedules.png"), full_page=True)


def test_a_viewer_cannot_create_overrides_or_edit_policies(
    page: Page, platform: Platform, oncall: httpx.Client
) -> None:
    setup_rotation(oncall)
    sign_in(page, create_token(platform, "viewer"))
    page.get_by_role("link", name="Schedules").click()
    expect(page.get_by_role("list", name="Primary: next 14 days")).to_be_visible()
    expect(page.get_by_role("button", name="Create override")).to_have_count(0)
    page.get_by_role("link", name="Escalation policies").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.get_by_role("button", name="Edit Checkout")).to_have_count(0)
    page.get_by_role("link", name="Services").click()
    expect(page.get_by_role("row").filter(has_text="checkout")).to_contain_text("Checkout")
    expect(page.get_by_role("button", name="Save routing")).to_have_count(0)


def test_an_admin_edits_an_escalation_policy(
    page: Page, platform: Platform, oncall: httpx.Client
) -> None:
    ids = setup_rotation(oncall)
    sign_in(page, platform.admin_token)
    page.get_by_role("link", name="Escalation policies").click()
    card = page.get_by_role("region", name="Checkout")
    expect(card).to_contain_text("after 0 min: schedule Primary")
    expect(card).to_contain_text("after 5 min: user bob")
    assert_accessible(page)
    page.get_by_role("button", name="Edit Checkout").click()
    editor = page.get_by_role("form", name="Edit Checkout")
    editor.get_by_label("Repeat").fill("2")
    editor.get_by_label("Step 2 delay (minutes)").fill("10")
    editor.get_by_role("button", name="Add step").click()
    editor.get_by_label("Step 3 delay (minutes)").fill("20")
    step3 = editor.get_by_role("group", name="Step 3")
    step3.get_by_role("button", name="Add target").click()
    step3.get_by_label("Target type").select_option("webhook")
    step3.get_by_label("Target", exact=True).fill("http://127.0.0.1:9/hook")
    assert_accessible(page)
    editor.get_by_role("button", name="Save policy").click()
    expect(card).to_contain_text("after 10 min: user bob")
    expect(card).to_contain_text("after 20 min: webhook http://127.0.0.1:9/hook")
    expect(card).to_contain_text("Repeat: 2")

    saved = oncall.get(f"/api/v1/escalation-policies/{ids['policy']}").json()
    assert saved["repeat"] == 2
    assert [step["delay_minutes"] for step in saved["steps"]] == [0, 10, 20]
    assert saved["steps"][2]["targets"] == [{"type": "webhook", "url": "http://127.0.0.1:9/hook"}]


def test_an_admin_routes_a_service(page: Page, platform: Platform, oncall: httpx.Client) -> None:
    ids = setup_rotation(oncall)
    sign_in(page, platform.admin_token)
    page.get_by_role("link", name="Services").click()
    page.get_by_label("Service", exact=True).fill("payments")
    page.get_by_label("Escalation policy").select_option(label="Checkout")
    page.get_by_role("button", name="Save routing").click()
    expect(page.get_by_role("status")).to_have_text("Routed payments.")
    expect(page.get_by_role("row").filter(has_text="payments")).to_contain_text("Checkout")
    assert_accessible(page)
    routing = oncall.get("/api/v1/services/payments").json()
    assert routing["escalation_policy_id"] == ids["policy"]
