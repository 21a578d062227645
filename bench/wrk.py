"""Runs wrk (the load generator) with a Lua scenario script and parses its summary."""

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.model import Measurement

LUA_DIR = Path(__file__).parent / "lua"
MARKER = "BENCH_JSON "


class WrkError(RuntimeError):
    pass


def ensure_wrk() -> str:
    """The path of wrk; installs the Debian package ``wrk`` with apt-get when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        raise WrkError("wrk is not installed and apt-get is not available: install wrk")
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            raise WrkError("wrk is not installed; run `apt-get install -y wrk` as root")
        prefix = [sudo, "-n"]
    print(
        "wrk not found: installing the Debian package (apt-get update; apt-get install -y wrk)",
        flush=True,
    )
    subprocess.run([*prefix, apt, "update", "-qq"], check=True)  # noqa: S603
    subprocess.run([*prefix, apt, "install", "-y", "-qq", "wrk"], check=True)  # noqa: S603
    found = shutil.which("wrk")
    if found is None:
        raise WrkError("apt-get installed wrk but it is not on PATH")
    return found


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    first = (result.stdout or result.stderr).splitlines()
    return first[0].split(" Copyright")[0].strip() if first else "unknown"


@dataclass(frozen=True)
class LoadShape:
    threads: int
    connections: int
    seconds: float
    timeout_seconds: float = 10.0


def _script(scenario: str, directory: Path) -> Path:
    """common.lua followed by the scenario's script, as one file (wrk takes one script)."""
    text = (LUA_DIR / "common.lua").read_text() + "\n" + (LUA_DIR / f"{scenario}.lua").read_text()
    path = directory / f"{scenario}.lua"
    path.write_text(text)
    return path


class Rejected(Exception):
    """The caller's check refused this run early (e.g. connections split unevenly)."""


def run_wrk(
    wrk: str,
    url: str,
    *,
    script: str,
    shape: LoadShape,
    args: list[str],
    headers: dict[str, str] | None = None,
    log: Path | None = None,
    accept: Callable[[], bool] | None = None,
    accept_after: float = 0.5,
) -> Measurement:
    """One wrk run; ``args`` go to the script's init() (args[1] should be a unique tag).

    ``accept``, when given, is called ``accept_after`` seconds into the run; if it
    returns False, wrk is stopped and :class:`Rejected` raised, so the caller can
    start over without waiting for the whole run.
    """
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as directory:
        command = [
            wrk,
            f"-t{shape.threads}",
            f"-c{shape.connections}",
            f"-d{max(1, round(shape.seconds))}s",
            f"--timeout={max(1, round(shape.timeout_seconds))}s",
            "--latency",
            "-s",
            str(_script(script, Path(directory))),
        ]
        for name, value in (headers or {}).items():
            command += ["-H", f"{name}: {value}"]
        command += [url, "--", *args]
        process = subprocess.Popen(  # noqa: S603 - wrk with our own arguments
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            if accept is not None:
                try:
                    process.wait(timeout=accept_after)
                except subprocess.TimeoutExpired:
                    if not accept():
                        process.terminate()
                        process.communicate(timeout=30)
                        raise Rejected from None
            stdout, stderr = process.communicate(timeout=shape.seconds + 60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    if log is not None:
        shown = [part if "Bearer" not in part else "Authorization: Bearer ***" for part in command]
        log.write_text("$ " + " ".join(shown) + "\n" + stdout + ("\n" + stderr if stderr else ""))
    if process.returncode != 0:
        raise WrkError(f"wrk exited with {process.returncode}: {stderr.strip()[:500]}")
    line = next((ln for ln in stdout.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise WrkError(f"wrk printed no summary line: {stdout[-500:]}")
    data: dict[str, Any] = json.loads(line[len(MARKER) :])
    return _measurement(data)


def _measurement(data: dict[str, Any]) -> Measurement:
    requests = int(data["requests"])
    errors = {name: int(count) for name, count in data["errors"].items() if int(count)}
    statuses = {str(code): int(count) for code, count in data["statuses"].items()}
    ok = sum(count for code, count in statuses.items() if code.startswith("2"))
    latency = data["latency_us"]
    # wrk counts any status above 399 as an error; count every non-2xx here.
    non_2xx = requests - ok
    if non_2xx > errors.get("status", 0):
        errors["status"] = non_2xx
    return Measurement(
        calls=requests,
        ok_calls=ok,
        seconds=int(data["duration_us"]) / 1e6,
        p50_ms=int(latency["p50"]) / 1000,
        p99_ms=int(latency["p99"]) / 1000,
        errors=errors,
        statuses=dict(sorted(statuses.items())),
        error_samples=tuple(str(sample) for sample in data.get("samples", [])),
    )
