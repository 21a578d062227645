"""Debian tools the compose checks need: ``docker-compose`` (1.29) and ``promtool``.

Neither needs a Docker engine or a running Prometheus. When one is missing and we are root
(as on this project's machines and in CI), it is installed with ``apt-get``; otherwise the
fixture fails with the command to run. These checks are never skipped.

Test modules cannot import this file (pytest's importlib mode), so the tools are handed to
them as fixtures.
"""

from __future__ import annotations

import pytest

from support.debian import debian_tool


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """Debian's docker-compose 1.29: validates a compose file without an engine."""
    return debian_tool("docker-compose", "docker-compose")


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool from Debian's prometheus package (nothing is started by installing it)."""
    return debian_tool("promtool", "prometheus")
