"""Runs a service with uvicorn; shared by every service's entry point."""

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import uvicorn


def prepare_multiprocess_metrics(service: str, workers: int) -> None:
    """Give the workers one fresh directory to share their metric files in."""
    if workers <= 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    directory = Path(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        or Path(tempfile.gettempdir()) / f"incident-platform-metrics-{service}-{os.getpid()}"
    )
    # Files left by a previous run would be summed into this one's counters.
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def serve(factory: str, *, default_port: int) -> None:
    service = factory.split(":")[0].rsplit(".", 1)[-1]
    parser = argparse.ArgumentParser(description=f"Run the {service} service.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", default_port)))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "info"))
    args = parser.parse_args()
    os.environ["LOG_LEVEL"] = args.log_level
    prepare_multiprocess_metrics(service, args.workers)
    uvicorn.run(
        factory,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        # A worker answers the supervisor's health check only once its app is imported; on a
        # loaded machine (or a CPU-limited pod) that takes longer than uvicorn's 5 s default,
        # and the worker would be killed and respawned over and over.
        timeout_worker_healthcheck=60,
    )
