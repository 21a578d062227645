"""Where the cores went during a run: CPU time of the app, PostgreSQL, wrk and the rest.

Read from /proc before and after a run (Linux only). ``app`` is the uvicorn
supervisor and its workers (one process group); ``postgres`` the backends serving
the benchmark's database (children of the postmaster whose command line names
the database, so other databases on a shared server are not counted), sampled
every 50 ms by :class:`BackendSampler` because the pool's overflow connections
come and go during a run (a backend's last < 50 ms, or one living < 50 ms, is
missed); ``wrk`` the load generator (this process's children times); ``other``
whatever else kept the cores busy (the machine's busy time from /proc/stat less
the above), e.g. someone's test suite on the same cores.
"""

import contextlib
import os
import resource
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
# Busier than this (percent of all cores) before a row, the machine is not quiet.
QUIET = 15.0
GROUPS = ("app", "postgres", "wrk", "other", "idle")


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    by_pid: dict[int, tuple[str, float]]  # pid -> (group, CPU seconds so far)
    children: float  # CPU seconds of this process's waited-for children (wrk)
    busy: float  # whole-machine non-idle CPU seconds since boot


def cores() -> int:
    return len(os.sched_getaffinity(0)) or 1


def _group(pgid: int, app_groups: set[int]) -> str:
    return "app" if pgid in app_groups else "other"


def snapshot(app_groups: set[int]) -> CpuSnapshot:
    by_pid: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ..." - comm may hold spaces and parentheses.
        fields = raw[raw.rfind(")") + 2 :].split()
        group = _group(int(fields[2]), app_groups)
        if group != "other":
            by_pid[int(entry.name)] = (group, (int(fields[11]) + int(fields[12])) / TICKS)
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(
        at=time.monotonic(),
        by_pid=by_pid,
        children=children.ru_utime + children.ru_stime,
        busy=(sum(values[:8]) - idle) / TICKS,
    )


def usage(before: CpuSnapshot, after: CpuSnapshot, postgres: float = 0.0) -> dict[str, float]:
    """CPU seconds per group over the interval, plus ``idle`` and ``capacity`` (wall x cores).

    ``postgres`` comes from a :class:`BackendSampler` run over the same interval.
    """
    out = {"app": 0.0, "postgres": postgres}
    for pid, (group, seconds) in after.by_pid.items():
        earlier = before.by_pid.get(pid)
        out[group] = out.get(group, 0.0) + seconds - (earlier[1] if earlier else 0.0)
    out["wrk"] = after.children - before.children
    capacity = (after.at - before.at) * cores()
    busy = after.busy - before.busy
    out["other"] = max(0.0, busy - out["app"] - out["postgres"] - out["wrk"])
    out["idle"] = max(0.0, capacity - busy)
    out["capacity"] = capacity
    return out


def per_process(before: CpuSnapshot, after: CpuSnapshot, group: str) -> list[float]:
    """CPU seconds of each process of ``group`` over the interval, largest first."""
    out = []
    for pid, (member, seconds) in after.by_pid.items():
        if member == group:
            earlier = before.by_pid.get(pid)
            out.append(seconds - (earlier[1] if earlier else 0.0))
    return sorted(out, reverse=True)


def machine_busy(seconds: float = 1.0) -> float:
    """Percent of all cores busy over the next ``seconds`` (whoever used them)."""
    before = snapshot(set())
    time.sleep(seconds)
    used = usage(before, snapshot(set()))
    return 100.0 - 100.0 * used["idle"] / used["capacity"]


def wait_quiet(max_seconds: float, threshold: float = QUIET) -> float:
    """Waits (up to ``max_seconds``) until the machine is under ``threshold`` % busy.

    Other people's test suites on the same cores would skew every figure. Returns
    the last busy percentage seen, so the caller can say the run was noisy.
    """
    deadline = time.monotonic() + max_seconds
    busy = machine_busy()
    announced = False
    while busy > threshold and time.monotonic() < deadline:
        if not announced:
            print(
                f"    machine {busy:.0f}% busy (other processes): waiting up to"
                f" {max_seconds:.0f} s for it to calm down",
                flush=True,
            )
            announced = True
        busy = machine_busy()
    return busy


def _cpu_seconds(pid: int) -> float | None:
    try:
        raw = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def parent_pid(pid: int) -> int | None:
    try:
        raw = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    return int(raw[raw.rfind(")") + 2 :].split()[1])


class BackendSampler:
    """CPU seconds of one database's backends, sampled while load runs.

    Backends are the postmaster's children whose command line names the database
    (``postgres: ... <user> <database> <client> <state>``). Each is read every
    ``interval`` seconds; its CPU over the run is its last reading less its first
    (or less zero for a backend born during the run).
    """

    def __init__(self, postmaster: int | None, database: str, interval: float = 0.05) -> None:
        self.postmaster = postmaster
        self.needle = f" {database} ".encode()
        self.interval = interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.ours: dict[int, bool] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = False

    def __enter__(self) -> "BackendSampler":
        if self.postmaster is not None:
            self._sample(initial=True)
            self._thread.start()
            self._started = True
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._started:
            self._thread.join()
            self._sample(initial=False)

    @property
    def seconds(self) -> float:
        return sum(self.last[pid] - self.first.get(pid, 0.0) for pid in self.last)

    def _children(self) -> list[int]:
        path = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in path.read_text().split()]
        return []

    def _is_ours(self, pid: int) -> bool:
        known = self.ours.get(pid)
        if known is None:
            try:
                command = (Path("/proc") / str(pid) / "cmdline").read_bytes()
            except OSError:
                return False
            known = self.needle in command.replace(b"\0", b" ")
            self.ours[pid] = known
        return known

    def _sample(self, *, initial: bool) -> None:
        for pid in self._children():
            if not self._is_ours(pid):
                continue
            seconds = _cpu_seconds(pid)
            if seconds is None:
                continue
            if initial:
                self.first[pid] = seconds
            self.last[pid] = seconds

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample(initial=False)
