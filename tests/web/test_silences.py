"""The Silences page, "Silence like this" and maintenance windows in a real browser.

Each test checks what the page did against the ingestion service (the silences it holds and
what an alert sent afterwards is answered), not only what the page shows.
"""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.platform import Platform, create_integration
from web.conftest import SCREENSHOTS, assert_accessible, create_token, send_alert, sign_in

pytestmark = pytest.mark.xdist_group("browser")
NEW_YORK = ZoneInfo("America/New_York")  # the browser context's zone (conftest)


def silences(platform: Platform) -> list[dict[str, Any]]:
    response = httpx.get(platform.ingestion.url + "/api/v2/silences", headers=platform.admin())
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def post_silence(platform: Platform, matchers: list[dict[str, Any]], comment: str) -> str:
    now = datetime.now(UTC)
    response = httpx.post(
        platform.ingestion.url + "/api/v2/silences",
        json={
            "matchers": matchers,
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=3)).isoformat(),
            "createdBy": "api",
            "comment": comment,
        },
        headers=platform.admin(),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["silenceID"])


def name_of(platform: Platform, token: str) -> str:
    """The name the platform knows the token by: what the page records as createdBy."""
    response = httpx.get(
        platform.incidents.url + "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["name"])


def equal(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value, "isRegex": False, "isEqual": True}


def window_hours(silence: dict[str, Any]) -> float:
    starts = datetime.fromisoformat(silence["startsAt"])
    ends = datetime.fromisoformat(silence["endsAt"])
    return (ends - starts).total_seconds() / 3600


def local_input(instant: datetime) -> str:
    """What a datetime-local field holds for ``instant`` in the browser's zone."""
    return instant.astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M")


def test_a_responder_creates_a_silence_that_mutes_alerts_and_expires_it(
    page: Page, platform: Platform
) -> None:
    key = create_integration(platform, "generic")
    token = create_token(platform, "responder", name="pat")
    pat = name_of(platform, token)
    sign_in(page, token)
    page.get_by_role("link", name="Silences").click()
    expect(page.get_by_role("heading", name="Active (0)")).to_be_visible()
    page.get_by_label("Matcher 1 label").fill("service")
    page.get_by_label("Matcher 1 value").fill("checkout")
    page.get_by_role("button", name="Add matcher").click()
    page.get_by_label("Matcher 2 label").fill("severity")
    page.get_by_label("Matcher 2 operator").select_option("=~")
    page.get_by_label("Matcher 2 value").fill("critical|high")
    page.get_by_label("Duration").select_option(label="4 hours")
    page.get_by_label("Comment").fill("Payment provider migration")
    expect(page.get_by_text(f"Created by {pat}")).to_be_visible()
    page.get_by_role("button", name="Create silence").click()
    expect(page.get_by_role("status")).to_contain_text("created")

    active = page.get_by_role("table", name="Active (1)")
    row = active.get_by_role("row").filter(has_text="Payment provider migration")
    expect(row).to_contain_text('service="checkout"')
    expect(row).to_contain_text('severity=~"critical|high"')
    expect(row).to_contain_text(pat)
    # The form is ready for the next silence.
    expect(page.get_by_label("Comment")).to_have_value("")
    expect(page.get_by_label("Matcher 1 label")).to_have_value("")

    [held] = silences(platform)
    assert held["createdBy"] == pat
    assert held["status"]["state"] == "active"
    assert held["matchers"] == [
        equal("service", "checkout"),
        {"name": "severity", "value": "critical|high", "isRegex": True, "isEqual": True},
    ]
    assert window_hours(held) == pytest.approx(4)

    # The silence the page made is the one the ingestion path applies.
    muted = send_alert(platform, key, "checkout", "Card declines", severity="critical")
    assert muted["action"] == "silenced"
    assert send_alert(platform, key, "checkout", "Slow page", severity="info")["action"] != (
        "silenced"
    )
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "silences.png"), full_page=True)

    row.get_by_role("button", name="Expire").click()
    expect(page.get_by_role("heading", name="Active (0)")).to_be_visible()
    page.get_by_text("Recently expired (1)").click()
    expect(page.get_by_role("table", name="Recently expired")).to_contain_text(
        "Payment provider migration"
    )
    assert [silence["status"]["state"] for silence in silences(platform)] == ["expired"]
    assert send_alert(platform, key, "checkout", "Card declines again", severity="critical")[
        "action"
    ] != ("silenced")
    assert_accessible(page)


def test_a_refused_silence_shows_the_error_next_to_the_field_it_names(
    page: Page, platform: Platform
) -> None:
    sign_in(page, create_token(platform, "responder"))
    page.goto("/silences")
    page.get_by_label("Matcher 1 label").fill("instance")
    page.get_by_label("Matcher 1 operator").select_option("=~")
    page.get_by_label("Matcher 1 value").fill("web-(")
    page.get_by_label("Comment").fill("Bad pattern")
    page.get_by_role("button", name="Create silence").click()

    value = page.get_by_label("Matcher 1 value")
    expect(value).to_have_attribute("aria-invalid", "true")
    described = page.locator(f"#{value.get_attribute('aria-describedby')}")
    expect(described).to_contain_text("invalid regular expression")
    expect(page.get_by_test_id("matcher-row").nth(0)).to_contain_text("invalid regular expression")
    expect(page.get_by_label("Comment")).not_to_have_attribute("aria-invalid", "true")
    assert silences(platform) == []  # nothing written
    assert_accessible(page)

    # An end before the start is refused on endsAt, shown by the Ends field.
    value.fill("web-.*")
    now = datetime.now(UTC)
    page.get_by_label("Starts").fill(local_input(now + timedelta(hours=2)))
    page.get_by_label("Duration").select_option(label="until a time…")
    page.get_by_label("Ends").fill(local_input(now + timedelta(hours=1)))
    page.get_by_role("button", name="Create silence").click()
    ends = page.get_by_label("Ends")
    expect(ends).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{ends.get_attribute('aria-describedby')}")).to_contain_text(
        "must not be before startsAt"
    )
    expect(value).not_to_have_attribute("aria-invalid", "true")
    assert silences(platform) == []

    page.get_by_label("Ends").fill(local_input(now + timedelta(hours=3)))
    page.get_by_role("button", name="Create silence").click()
    expect(page.get_by_role("status")).to_contain_text("created")
    [held] = silences(platform)
    assert held["status"]["state"] == "pending"
    assert window_hours(held) == pytest.approx(1, abs=1 / 60)
    expect(page.get_by_role("table", name="Pending (1)")).to_contain_text('instance=~"web-.*"')


def test_silence_like_this_prefills_the_alert_labels_and_rows_can_be_removed(
    page: Page, platform: Platform
) -> None:
    key = create_integration(platform, "generic")
    created = send_alert(
        platform,
        key,
        "checkout",
        "Checkout error rate above 5%",
        severity="critical",
        labels={"alertname": "HighErrorRate", "region": "eu-west-1"},
    )
    sign_in(page, create_token(platform, "responder"))
    page.goto(f"/incidents/{created['incident_id']}")
    page.get_by_role("link", name="Silence like this").click()
    expect(page.get_by_role("heading", name="Silences", level=1)).to_be_visible()
    rows = page.get_by_test_id("matcher-row")
    expect(rows).to_have_count(4)
    for number, (name, value) in enumerate(
        [
            ("service", "checkout"),
            ("severity", "critical"),
            ("alertname", "HighErrorRate"),
            ("region", "eu-west-1"),
        ],
        start=1,
    ):
        expect(page.get_by_label(f"Matcher {number} label")).to_have_value(name)
        expect(page.get_by_label(f"Matcher {number} operator")).to_have_value("=")
        expect(page.get_by_label(f"Matcher {number} value")).to_have_value(value)
    assert_accessible(page)

    page.get_by_role("button", name="Remove matcher 4").click()
    expect(rows).to_have_count(3)
    page.get_by_label("Comment").fill("Known issue in every region")
    page.get_by_role("button", name="Create silence").click()
    expect(page.get_by_role("status")).to_contain_text("created")
    [held] = silences(platform)
    assert held["matchers"] == [
        equal("service", "checkout"),
        equal("severity", "critical"),
        equal("alertname", "HighErrorRate"),
    ]
    # Without the region row, the same alert from another region is muted too.
    again = send_alert(
        platform,
        key,
        "checkout",
        "Checkout error rate above 5%",
        severity="critical",
        labels={"alertname": "HighErrorRate", "region": "us-east-1"},
    )
    assert again["action"] == "silenced"


def test_a_viewer_reads_silences_but_has_no_write_controls(page: Page, platform: Platform) -> None:
    key = create_integration(platform, "generic")
    created = send_alert(platform, key, "checkout", "Checkout down")
    post_silence(platform, [equal("service", "search")], "Reindexing")
    sign_in(page, create_token(platform, "viewer"))
    page.goto("/silences")
    expect(page.get_by_role("table", name="Active (1)")).to_contain_text("Reindexing")
    for name in ("Create silence", "Expire", "Add matcher"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_label("Comment")).to_have_count(0)
    assert_accessible(page)

    page.goto(f"/incidents/{created['incident_id']}")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.get_by_role("link", name="Silence like this")).to_have_count(0)

    page.get_by_role("link", name="Services").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="search"))
    expect(row.get_by_test_id("maintenance-badge")).to_be_visible()
    expect(page.get_by_role("button", name="Start maintenance")).to_have_count(0)
    expect(page.get_by_role("button", name="End maintenance")).to_have_count(0)


def test_maintenance_starts_and_ends_from_the_services_page(page: Page, platform: Platform) -> None:
    key = create_integration(platform, "generic")
    send_alert(platform, key, "checkout", "Checkout down")
    send_alert(platform, key, "search", "Search index lagging")
    # Narrower than a maintenance window: service and severity. Not shown as maintenance.
    post_silence(
        platform, [equal("service", "search"), equal("severity", "info")], "Quiet info alerts"
    )
    token = create_token(platform, "responder", name="sam")
    sign_in(page, token)
    page.get_by_role("link", name="Services").click()
    checkout = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="checkout"))
    search = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="search"))
    expect(search.get_by_role("button", name="Start maintenance of search")).to_be_visible()
    expect(page.get_by_test_id("maintenance-badge")).to_have_count(0)

    page.get_by_label("Maintenance length for checkout").select_option(label="2 hours")
    page.get_by_role("button", name="Start maintenance of checkout").click()
    badge = checkout.get_by_test_id("maintenance-badge")
    expect(badge).to_contain_text("In maintenance until")
    expect(search.get_by_test_id("maintenance-badge")).to_have_count(0)
    [window] = [s for s in silences(platform) if s["comment"] != "Quiet info alerts"]
    assert window["matchers"] == [equal("service", "checkout")]
    assert window["createdBy"] == name_of(platform, token)
    assert window["status"]["state"] == "active"
    assert window_hours(window) == pytest.approx(2)
    assert badge.locator("time").get_attribute("datetime") == window["endsAt"]
    assert send_alert(platform, key, "checkout", "Checkout slow")["action"] == "silenced"
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "maintenance.png"), full_page=True)

    page.get_by_role("link", name="Incidents").click()
    incidents = page.locator("table.incidents tbody tr")
    expect(incidents).to_have_count(2)
    expect(
        incidents.filter(has_text="Checkout down").get_by_test_id("maintenance-badge")
    ).to_be_visible()
    expect(
        incidents.filter(has_text="Search index").get_by_test_id("maintenance-badge")
    ).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("link", name="Services").click()
    page.get_by_role("button", name="End maintenance of checkout").click()
    expect(badge).to_have_count(0)
    expect(checkout.get_by_role("button", name="Start maintenance of checkout")).to_be_visible()
    states = {s["comment"]: s["status"]["state"] for s in silences(platform)}
    assert states == {"Maintenance of checkout": "expired", "Quiet info alerts": "active"}
    assert send_alert(platform, key, "checkout", "Checkout slow again")["action"] != "silenced"


def test_maintenance_until_a_chosen_time(page: Page, platform: Platform) -> None:
    key = create_integration(platform, "generic")
    send_alert(platform, key, "billing", "Invoices late")
    sign_in(page, create_token(platform, "responder"))
    page.goto("/services")
    until = (datetime.now(UTC) + timedelta(hours=5)).replace(second=0, microsecond=0)
    page.get_by_label("Maintenance length for billing").select_option(label="until…")
    page.get_by_label("Maintenance of billing ends at").fill(local_input(until))
    page.get_by_role("button", name="Start maintenance of billing").click()
    expect(page.get_by_test_id("maintenance-badge")).to_be_visible()
    [window] = silences(platform)
    assert datetime.fromisoformat(window["endsAt"]) == until
    assert window["matchers"] == [equal("service", "billing")]
    assert_accessible(page)
