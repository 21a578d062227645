"""A web server in front of the real services, serving a small bundle written here."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.platform import Platform
from support.services import ServiceProcess, free_port
from support.web import start_web_server

INDEX_HTML = (
    '<!doctype html><html lang="en"><head><title>Incident platform</title>'
    '<script type="module" src="/assets/index-abc123.js"></script></head>'
    '<body><div id="root"></div></body></html>'
)
SCRIPT = "document.getElementById('root').textContent = 'hello';\n"


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    (dist / "assets").mkdir()
    (dist / "index.html").write_text(INDEX_HTML)
    (dist / "assets" / "index-abc123.js").write_text(SCRIPT)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return dist


@pytest.fixture(scope="session")
def running_web(
    running_platform: Platform, bundle_dir: Path, logs_dir: Path
) -> Iterator[ServiceProcess]:
    server = start_web_server(running_platform, bundle_dir, log_path=logs_dir / "web.log")
    yield server
    server.stop()


@pytest.fixture
def web(platform: Platform, running_web: ServiceProcess) -> Iterator[httpx.Client]:
    """A client of :8080 over an emptied database; it sends no credential of its own."""
    with httpx.Client(base_url=running_web.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def web_without_oncall(
    running_platform: Platform, bundle_dir: Path, logs_dir: Path
) -> Iterator[ServiceProcess]:
    """A web server whose on-call upstream is a port nothing listens on."""
    server = start_web_server(
        running_platform,
        bundle_dir,
        log_path=logs_dir / "web-no-oncall.log",
        WEB_ONCALL_URL=f"http://127.0.0.1:{free_port()}",
    )
    yield server
    server.stop()
