"""Debian tools the suite needs (docker-compose, promtool, prometheus), installed when missing.

When one is missing and we are root (as on this project's machines and in CI), it is
installed with ``apt-get``; otherwise the caller fails with the command to run. Tests that
need these tools are never skipped.
"""

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

# Two xdist workers may want the same package at once: apt/dpkg take their own locks, but a
# second apt-get would fail on them instead of waiting; this lock serialises our installs.
_APT_LOCK = Path("/tmp/incident-platform-tests-apt.lock")  # noqa: S108
_APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
_APT_TIMEOUT = 900


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["apt-get", "-o", "DPkg::Lock::Timeout=300", *args],
        capture_output=True,
        text=True,
        env=_APT_ENV,
        timeout=_APT_TIMEOUT,
        check=False,
    )


def debian_tool(binary: str, package: str) -> str:
    """The path of ``binary``, installing Debian's ``package`` first when it is missing."""
    found = shutil.which(binary)
    if found:
        return found
    install = f"apt-get install -y --no-install-recommends {package}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(f"{binary} is missing: run `{install}` (Debian package {package}) as root")
    with _APT_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = shutil.which(binary)  # another worker may have installed it meanwhile
        if found:
            return found
        result = _apt_get("install", "-y", "--no-install-recommends", package)
        if result.returncode != 0:
            # A fresh machine has no package lists yet: fetch them once and try again.
            update = _apt_get("update")
            assert update.returncode == 0, update.stdout + update.stderr
            result = _apt_get("install", "-y", "--no-install-recommends", package)
        assert result.returncode == 0, f"{install} failed:\n{result.stdout}{result.stderr}"
    found = shutil.which(binary)
    assert found, f"{install} succeeded but {binary} is not on PATH"
    return found
