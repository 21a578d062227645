"""Logging set-up shared by the services."""

import logging
import os


def configure_logging() -> None:
    """Our loggers at LOG_LEVEL on stderr; uvicorn configures its own."""
    package = logging.getLogger("incident_platform")
    if package.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package.addHandler(handler)
    package.setLevel(os.environ.get("LOG_LEVEL", "info").upper())
    package.propagate = False
