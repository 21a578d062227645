"""Optional: sample the app's workers with py-spy during a measured run (``--profile``).

py-spy (``pip install py-spy``) records collapsed stacks of the thread holding the GIL in the
uvicorn supervisor and its workers; :func:`summarize` prints where the time goes.
Sampling takes CPU from the same cores, so a profiled run's figures are lower:
profile to see proportions, measure without it.
"""

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.stack import AppProcess


@dataclass
class Profiler:
    process: subprocess.Popen[bytes]
    output: Path


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start_profiler(app: AppProcess, seconds: float, output: Path) -> Profiler | None:
    tool = py_spy()
    if tool is None or app.process is None:
        print("  (--profile: py-spy not found; `.venv/bin/pip install py-spy`)", flush=True)
        return None
    process = subprocess.Popen(  # noqa: S603 - py-spy on our own child
        [
            tool,
            "record",
            "--pid",
            str(app.process.pid),
            "--subprocesses",
            "--nonblocking",
            "--gil",
            "--rate",
            "200",
            "--duration",
            str(max(1, round(seconds))),
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Profiler(process, output)


def stop_profiler(profiler: Profiler) -> None:
    try:
        profiler.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        profiler.process.terminate()
        profiler.process.wait(timeout=10)
    if profiler.output.exists():
        print(summarize(profiler.output), flush=True)


def _frames(stack: str) -> list[str]:
    # py-spy raw frames: "function (path/to/file.py:line)"; drop the line for grouping.
    out = []
    for frame in stack.split(";"):
        name, _, where = frame.partition(" (")
        path = where.rsplit(":", 1)[0]
        for marker in ("site-packages/", "services/", "lib/python3"):
            if marker in path:
                path = path.split(marker, 1)[1]
                break
        out.append(f"{name} ({path})")
    return out


def summarize(path: Path, top: int = 12) -> str:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = _frames(stack)
        self_time[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if total == 0:
        return f"  profile {path.name}: no samples"
    lines = [f"  profile {path.name}: {total} on-CPU samples (both workers)", "  top self time:"]
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in self_time.most_common(top)]
    lines.append("  top inclusive time:")
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top * 2)]
    return "\n".join(lines)
