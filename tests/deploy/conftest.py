"""Fixtures of the deploy/ checks: promtool and prometheus from Debian's prometheus package.

Installed with apt-get when missing (never skipped); see support/debian.py. Test modules
cannot import this file (pytest's importlib mode), so the tools are fixtures.
"""

import pytest

from support.debian import debian_tool


@pytest.fixture(scope="session")
def promtool() -> str:
    return debian_tool("promtool", "prometheus")


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    return debian_tool("prometheus", "prometheus")
