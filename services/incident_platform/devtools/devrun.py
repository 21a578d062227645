"""``make run``: the whole platform on one machine, with an embedded PostgreSQL by default.

Builds the web UI bundle when it is missing or stale, starts PostgreSQL (unless
``DATABASE_URL`` points elsewhere), migrates, starts every service on its port and the web
UI on :8080, prints where they are and how to send a first alert, and on Ctrl-C stops all
of it, the embedded database included.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
from tenacity import Retrying, stop_after_delay, wait_exponential_jitter

from incident_platform.devtools.demo import seed_demo_oncall, start_demo_receiver
from incident_platform.devtools.devdb import EmbeddedPostgres
from incident_platform.devtools.devprometheus import start_prometheus
from incident_platform.devtools.webbundle import ensure_bundle


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port: int


SERVICES = [
    ServiceSpec("alert-ingestion", "incident_platform.entrypoints.alert_ingestion", 8001),
    ServiceSpec("incident-management", "incident_platform.entrypoints.incident_management", 8002),
    ServiceSpec("on-call", "incident_platform.entrypoints.oncall", 8003),
]
WEB = ServiceSpec("web UI", "incident_platform.web", 8080)
DEMO_RECEIVER_PORT = 8099
REPO = Path(__file__).resolve().parents[3]


def _data_dir() -> Path:
    return Path(os.environ.get("PLATFORM_DATA_DIR", ".data")).resolve()


def _admin_token(data: Path) -> str:
    return os.environ.get("PLATFORM_ADMIN_TOKEN") or _secret_file(data, "admin-token", "ipt_a_")


def _secret_file(data: Path, name: str, prefix: str) -> str:
    path = data / name
    if path.exists():
        return path.read_text().strip()
    value = f"{prefix}{secrets.token_urlsafe(32)}"
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def _start_service(spec: ServiceSpec, env: dict[str, str], host: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", spec.module, "--host", host, "--port", str(spec.port)],
        env=env,
    )


def _wait_ready(spec: ServiceSpec, host: str, path: str = "/readyz") -> None:
    for attempt in Retrying(
        stop=stop_after_delay(60), wait=wait_exponential_jitter(0.1, max=2), reraise=True
    ):
        with attempt:
            response = httpx.get(f"http://{host}:{spec.port}{path}", timeout=2)
            response.raise_for_status()


def _public_urls(host: str) -> dict[str, str]:
    """Links in pages and messages point where this run listens (unless configured): the
    services' defaults name 127.0.0.1, which another ``HOST`` does not serve."""
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - a name
    urls = {
        "PUBLIC_URL": f"http://{reachable}:8002",
        "ONCALL_PUBLIC_URL": f"http://{reachable}:8003",
    }
    return {name: os.environ.get(name) or url for name, url in urls.items()}


def _demo_integration_key(data: Path, host: str, token: str) -> str:
    """A generic integration for trying the platform out, created once and kept."""
    path = data / "demo-integration-key"
    if path.exists():
        return path.read_text().strip()
    response = httpx.post(
        f"http://{host}:8001/api/v1/integrations",
        headers={"Authorization": f"Bearer {token}"},
        json={"name": "local-demo", "kind": "generic"},
        timeout=10,
    )
    response.raise_for_status()
    key = str(response.json()["key"])
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def _monitoring(data: Path, host: str) -> list[subprocess.Popen[bytes]]:
    """Prometheus scraping the services, when its binary is installed (else a hint line)."""
    targets = {spec.module.rsplit(".", 1)[-1].replace("_", "-"): f"{host}:{spec.port}"
               for spec in SERVICES}  # fmt: skip
    prometheus = start_prometheus(data, host, targets)
    return [prometheus] if prometheus is not None else []


def main() -> None:
    data = _data_dir()
    data.mkdir(parents=True, exist_ok=True)
    host = os.environ.get("HOST", "127.0.0.1")
    embedded: EmbeddedPostgres | None = None
    children: list[subprocess.Popen[bytes]] = []

    def shutdown(signum: int | None = None, frame: FrameType | None = None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if embedded is not None:
            print("stopping embedded PostgreSQL", flush=True)
            embedded.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    try:
        # First, so that a broken UI build stops here rather than after everything started.
        dist = ensure_bundle(REPO / "web")
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            embedded = EmbeddedPostgres(data / "postgres")
            print(f"starting embedded PostgreSQL in {embedded.datadir}", flush=True)
            database_url = embedded.start()
        token = _admin_token(data)
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            PLATFORM_ADMIN_TOKEN=token,
            ACK_SIGNING_KEY=os.environ.get("ACK_SIGNING_KEY")
            or _secret_file(data, "ack-signing-key", ""),
            **_public_urls(host),
        )
        os.environ.update(env)

        from incident_platform.db import migrate

        for attempt in Retrying(
            stop=stop_after_delay(60), wait=wait_exponential_jitter(0.2, max=3), reraise=True
        ):
            with attempt:
                migrate(database_url)
        for spec in SERVICES:
            children.append(_start_service(spec, env, host))
        for spec in SERVICES:
            _wait_ready(spec, host)
        web_env = dict(
            env,
            WEB_DIST_DIR=str(dist),
            **{
                f"WEB_{name}_URL": f"http://{host}:{spec.port}"
                for name, spec in zip(("INGESTION", "INCIDENTS", "ONCALL"), SERVICES, strict=True)
            },
        )
        children.append(_start_service(WEB, web_env, host))
        _wait_ready(WEB, host, "/healthz")
        children.extend(_monitoring(data, host))
        key = _demo_integration_key(data, host, token)
        receiver = start_demo_receiver(host, DEMO_RECEIVER_PORT)
        seed_demo_oncall(f"http://{host}:8003", token, f"http://{host}:{DEMO_RECEIVER_PORT}")
        _print_banner(host, token, key)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a service exited; stopping the platform", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        if "receiver" in locals():
            receiver.shutdown()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        shutdown()


def _print_banner(host: str, token: str, key: str) -> None:
    alert = json.dumps(
        {"service": "checkout", "summary": "Checkout error rate above 5%", "severity": "critical"}
    )
    lines = [
        "",
        "Incident platform is running:",
        f"  {WEB.name:<22} http://{host}:{WEB.port}  (sign in with the admin token below)",
        *(f"  {spec.name:<22} http://{host}:{spec.port}  (docs: /docs)" for spec in SERVICES),
        "",
        f"  admin token            {token}",
        f"  demo integration key   {key}",
        "",
        "Send a first alert:",
        f"  curl -s -X POST http://{host}:8001/api/v1/alerts \\",
        f"    -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\",
        f"    -d '{alert}'",
        "It pages the demo schedule's on-call person; pages print here as [page] lines.",
        "See the incident:",
        f"  curl -s http://{host}:8002/api/v1/incidents -H 'Authorization: Bearer {token}'",
        "",
        "Ctrl-C stops everything.",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
