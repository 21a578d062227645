"""The web server (:8080 in production) started as production starts it, before the services."""

from pathlib import Path

from support.platform import Platform
from support.services import ServiceProcess


def web_server_env(platform: Platform, dist_dir: Path) -> dict[str, str]:
    return {
        "WEB_DIST_DIR": str(dist_dir),
        "WEB_INGESTION_URL": platform.ingestion.url,
        "WEB_INCIDENTS_URL": platform.incidents.url,
        "WEB_ONCALL_URL": platform.oncall.url,
    }


def start_web_server(
    platform: Platform, dist_dir: Path, *, log_path: Path | None = None, **overrides: str
) -> ServiceProcess:
    """``python -m incident_platform.web`` on a free port, ready (``/healthz``) when returned."""
    env = {**web_server_env(platform, dist_dir), **overrides}
    server = ServiceProcess("incident_platform.web", env, log_path=log_path).start()
    try:
        server.wait_until("/healthz")
    except BaseException:
        server.stop()
        raise
    return server
