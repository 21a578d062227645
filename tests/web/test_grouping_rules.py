"""The Grouping rules page and the flapping badge in a real browser.

Each test checks what the page did against the ingestion service (the rules it holds and how
alerts posted afterwards over HTTP are grouped), not only what the page shows.
"""

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.platform import Platform, create_integration
from web.conftest import SCREENSHOTS, assert_accessible, create_token, send_alert, sign_in

pytestmark = pytest.mark.xdist_group("browser")


def rules(platform: Platform) -> list[dict[str, Any]]:
    response = httpx.get(
        platform.ingestion.url + "/api/v1/grouping-rules", headers=platform.admin()
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def incident(platform: Platform, incident_id: int) -> dict[str, Any]:
    response = httpx.get(
        platform.incidents.url + f"/api/v1/incidents/{incident_id}", headers=platform.admin()
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def equal(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value, "isRegex": False, "isEqual": True}


def create_rule(platform: Platform, name: str, priority: int = 0) -> None:
    response = httpx.post(
        platform.ingestion.url + "/api/v1/grouping-rules",
        json={
            "name": name,
            "matchers": [equal("service", "payments")],
            "group_by": ["cluster"],
            "priority": priority,
        },
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text


def test_an_admin_creates_a_rule_that_splits_incidents_by_cluster(
    page: Page, platform: Platform
) -> None:
    key = create_integration(platform, "generic")
    sign_in(page, create_token(platform, "admin"))
    page.get_by_role("link", name="Grouping rules").click()
    expect(page.get_by_role("heading", name="Grouping rules", level=1)).to_be_visible()
    expect(page.get_by_text("No grouping rule")).to_be_visible()
    page.get_by_label("Name").fill("by-cluster")
    page.get_by_label("Matcher 1 label").fill("service")
    page.get_by_label("Matcher 1 value").fill("payments")
    page.get_by_label("Group by labels").fill("cluster")
    page.get_by_label("Priority").fill("5")
    page.get_by_role("button", name="Create rule").click()

    row = page.get_by_role("row").filter(has_text="by-cluster")
    expect(row).to_contain_text('service="payments"')
    expect(row).to_contain_text("cluster")
    [held] = rules(platform)
    assert held["name"] == "by-cluster"
    assert held["matchers"] == [equal("service", "payments")]
    assert held["group_by"] == ["cluster"]
    assert held["priority"] == 5
    assert held["window_minutes"] is None
    expect(page.get_by_label("Name")).to_have_value("")  # ready for the next rule

    # Alerts of one service on two clusters now open two incidents; the same cluster joins.
    east = send_alert(
        platform, key, "payments", "Card errors", fingerprint="east", labels={"cluster": "east"}
    )
    west = send_alert(
        platform, key, "payments", "Card errors", fingerprint="west", labels={"cluster": "west"}
    )
    again = send_alert(
        platform, key, "payments", "Slow auth", fingerprint="east-2", labels={"cluster": "east"}
    )
    assert east["incident_id"] != west["incident_id"]
    assert again["incident_id"] == east["incident_id"]
    page.get_by_role("link", name="Incidents").click()
    for created in (east, west):
        expect(page.locator(f"tr[data-incident-id='{created['incident_id']}']")).to_contain_text(
            "payments"
        )
    page.goto(f"/incidents/{west['incident_id']}")
    grouping = page.get_by_test_id("incident-grouping")
    expect(grouping).to_contain_text("by-cluster")
    expect(grouping).to_contain_text('cluster="west"')
    assert incident(platform, west["incident_id"])["grouping_rule"] == "by-cluster"
    assert_accessible(page)

    # A second, higher rule goes first in the list, as the service tries it.
    create_rule(platform, "all-payments", priority=9)
    page.goto("/grouping-rules")
    names = page.locator("tr[data-rule-name]")
    expect(names).to_have_count(2)
    expect(names.nth(0)).to_have_attribute("data-rule-name", "all-payments")
    expect(names.nth(1)).to_have_attribute("data-rule-name", "by-cluster")
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "grouping-rules.png"), full_page=True)


def test_an_admin_edits_and_deletes_a_rule_and_sees_refusals_by_field(
    page: Page, platform: Platform
) -> None:
    create_rule(platform, "by-cluster")
    create_rule(platform, "other")
    sign_in(page, create_token(platform, "admin"))
    page.goto("/grouping-rules")
    page.get_by_role("button", name="Edit rule by-cluster").click()
    form = page.get_by_role("form", name="Edit rule by-cluster")
    expect(form.get_by_label("Name")).to_have_value("by-cluster")
    expect(form.get_by_label("Matcher 1 value")).to_have_value("payments")
    expect(form.get_by_label("Group by labels")).to_have_value("cluster")

    # The API refuses a name that cannot be part of a key: shown on the Name field.
    name = form.get_by_label("Name")
    name.fill("by cluster")
    form.get_by_role("button", name="Save rule").click()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{name.get_attribute('aria-describedby')}")).not_to_be_empty()
    assert [rule["name"] for rule in rules(platform)] == ["by-cluster", "other"]
    assert_accessible(page)

    # Another rule's name is a 409, also shown on the Name field.
    name.fill("other")
    form.get_by_role("button", name="Save rule").click()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{name.get_attribute('aria-describedby')}")).to_contain_text(
        "a grouping rule named 'other'"
    )
    assert [rule["name"] for rule in rules(platform)] == ["by-cluster", "other"]

    # A label name the API refuses is shown on the group-by field.
    name.fill("by-cluster-region")
    group_by = form.get_by_label("Group by labels")
    group_by.fill("cluster, 9lives")
    form.get_by_role("button", name="Save rule").click()
    expect(group_by).to_have_attribute("aria-invalid", "true")
    expect(name).not_to_have_attribute("aria-invalid", "true")

    group_by.fill("cluster, region")
    form.get_by_label("Window in minutes").fill("30")
    form.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("form", name="New grouping rule")).to_be_visible()
    row = page.locator("tr[data-rule-name='by-cluster-region']")
    expect(row).to_contain_text("cluster, region")
    expect(row).to_contain_text("30 min")
    edited = {rule["name"]: rule for rule in rules(platform)}
    assert set(edited) == {"by-cluster-region", "other"}
    assert edited["by-cluster-region"]["group_by"] == ["cluster", "region"]
    assert edited["by-cluster-region"]["window_minutes"] == 30

    page.get_by_role("button", name="Delete rule other").click()
    expect(page.locator("tr[data-rule-name='other']")).to_have_count(0)
    assert [rule["name"] for rule in rules(platform)] == ["by-cluster-region"]


@pytest.mark.parametrize("role", ["responder", "viewer"])
def test_only_admins_see_the_grouping_rules_page(page: Page, platform: Platform, role: str) -> None:
    create_rule(platform, "by-cluster")
    sign_in(page, create_token(platform, role))
    expect(page.get_by_role("link", name="Incidents")).to_be_visible()
    expect(page.get_by_role("link", name="Grouping rules")).to_have_count(0)
    page.goto("/grouping-rules")
    expect(page.get_by_role("heading", name="Incidents", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Delete rule by-cluster")).to_have_count(0)
    expect(page.get_by_role("button", name="Create rule")).to_have_count(0)
    assert [rule["name"] for rule in rules(platform)] == ["by-cluster"]


def test_a_flapping_incident_shows_the_badge(page: Page, platform: Platform) -> None:
    key = create_integration(platform, "generic")
    steady = send_alert(platform, key, "steady", "Disk filling", fingerprint="disk")
    results = []
    for _ in range(6):  # 12 state changes: flapping from about the seventh
        for status in ("firing", "resolved"):
            results.append(
                send_alert(
                    platform, key, "flappy", "Link up/down", fingerprint="link", status=status
                )
            )
    flapping_id = results[-2]["incident_id"]  # the last return joined it
    assert incident(platform, flapping_id)["flapping"] is True
    assert incident(platform, steady["incident_id"])["flapping"] is False

    sign_in(page, create_token(platform, "viewer"))
    flapping_row = page.locator(f"tr[data-incident-id='{flapping_id}']")
    expect(flapping_row.get_by_text("flapping", exact=True)).to_be_visible()
    steady_row = page.locator(f"tr[data-incident-id='{steady['incident_id']}']")
    expect(steady_row).to_be_visible()
    expect(steady_row.get_by_text("flapping", exact=True)).to_have_count(0)
    assert_accessible(page)

    flapping_row.get_by_role("link").click()
    expect(page.get_by_text("flapping", exact=True)).to_be_visible()
    expect(page.get_by_test_id("incident-grouping")).to_have_count(0)  # no rule grouped it
    assert_accessible(page)
