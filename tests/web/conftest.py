"""Browser tests: Debian's Chromium driven by Playwright against the real platform.

The web server (``python -m incident_platform.web``) serves the built bundle and forwards
the API paths to the session's services, so the pages talk to the real services on real
PostgreSQL through one origin, as in production. Never ``playwright install``: the browser
is /usr/bin/chromium.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from incident_platform.devtools.webbundle import ensure_bundle
from support.platform import Platform
from support.services import ServiceProcess
from support.web import start_web_server

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# The same patience for `expect(...)` as for actions (its default is 5 s): a page that
# follows a change through the event stream has taken longer than that under the full
# suite's load.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def web_bundle() -> Path:
    return ensure_bundle(WEB)


@pytest.fixture(scope="session")
def web_server(
    running_platform: Platform, web_bundle: Path, logs_dir: Path
) -> Iterator[ServiceProcess]:
    server = start_web_server(running_platform, web_bundle, log_path=logs_dir / "web.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Console:
    """What the page logged; a CSP violation or an uncaught error fails the test."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def record(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.errors.append(message.text)

    def record_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")


@pytest.fixture
def context(
    browser: Browser, web_server: ServiceProcess, platform: Platform
) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=web_server.url,
        viewport={"width": 1280, "height": 860},
        permissions=["clipboard-read", "clipboard-write"],
        timezone_id="America/New_York",
    )
    # Injected through the DevTools protocol before any page script: the page's CSP (no
    # inline scripts) stays in force for the app itself.
    context.add_init_script(path=AXE)
    # How long a wait may take before it fails: the suite shares two cores with the real
    # services it drives, and a first page load under that load has taken over 10 s.
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(context: BrowserContext, console: Console) -> Iterator[Page]:
    page = context.new_page()
    page.on("console", console.record)
    page.on("pageerror", console.record_page_error)
    yield page
    assert console.errors == [], console.errors


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], violations


def sign_in(page: Page, token: str) -> None:
    page.goto("/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def create_token(platform: Platform, role: str, name: str | None = None) -> str:
    response = httpx.post(
        platform.incidents.url + "/api/v1/tokens",
        json={"name": name or f"{role}-browser", "role": role},
        headers=platform.admin(),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def send_alert(
    platform: Platform, key: str, service: str, summary: str, **fields: Any
) -> dict[str, Any]:
    response = httpx.post(
        platform.ingestion.url + "/api/v1/alerts",
        json={"service": service, "summary": summary, **fields},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code in (200, 201, 202), response.text
    result: dict[str, Any] = response.json()
    return result
