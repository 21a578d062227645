"""Signing in with an API token, a wrong one, and signing out."""

import pytest
from playwright.sync_api import Page, expect

from support.platform import Platform
from web.conftest import assert_accessible, create_token, sign_in

pytestmark = pytest.mark.xdist_group("browser")


def test_a_wrong_token_shows_an_error_and_stays_on_the_sign_in_page(page: Page) -> None:
    page.goto("/")
    assert_accessible(page)
    page.get_by_label("API token").fill("ipt_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Incidents")).to_have_count(0)


def test_the_right_token_signs_in_and_sign_out_forgets_it(page: Page, platform: Platform) -> None:
    token = create_token(platform, "responder")
    sign_in(page, token)
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Incidents", "On-call", "Schedules", "Escalation policies", "Services", "Stats"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    # Integrations are for admins only.
    expect(nav.get_by_role("link", name="Integrations")).to_have_count(0)
    expect(page.get_by_role("heading", name="Incidents", level=1)).to_be_visible()
    assert_accessible(page)

    # The token is in sessionStorage at most: never in the URL or localStorage.
    assert token not in page.url
    assert page.evaluate("JSON.stringify(localStorage)") == "{}"
    # A reload keeps the tab signed in.
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API token")).to_be_visible()
    assert page.evaluate("Object.keys(sessionStorage).length") == 0
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_an_admin_sees_integrations(page: Page, platform: Platform) -> None:
    sign_in(page, platform.admin_token)
    expect(page.get_by_role("link", name="Integrations")).to_be_visible()
