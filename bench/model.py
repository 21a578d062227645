"""What a benchmark row is, and the scenarios that make rows."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bench.context import Context

StackName = Literal["baseline", "platform", "incidents"]


@dataclass(frozen=True)
class Statement:
    """One statement's share of PostgreSQL's work during a measured run (pg_stat_statements)."""

    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int
    shared_hit: int
    shared_read: int
    shared_dirtied: int
    # Of the execution time of every statement on the benchmark database in the run.
    share: float


@dataclass(frozen=True)
class Measurement:
    """What one measured run gives, whether wrk over HTTP or time.perf_counter in process."""

    calls: int
    ok_calls: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: tuple[str, ...] = ()
    # CPU seconds per process group during the run, with "idle" and "capacity" (bench.cpu).
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    # CPU seconds of each app process (the workers, then the idle supervisor), largest first.
    app_processes: tuple[float, ...] = ()
    # wrk's connections held by each worker during the run, largest first.
    worker_connections: tuple[int, ...] = ()
    # Measured runs started to get an even split of connections (bench.context).
    attempts: int = 1
    # PostgreSQL sessions opened on the benchmark database during the run (pool churn).
    new_sessions: int | None = None
    # Resident memory of each app worker at the end of the run, MiB, largest first.
    worker_rss_mib: tuple[float, ...] = ()
    # Where PostgreSQL's execution time went, most first (empty without pg_stat_statements).
    statements: tuple[Statement, ...] = ()

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def cpu_percent(self, group: str) -> float | None:
        """Share of all cores that ``group`` used during the run."""
        capacity = self.cpu_seconds.get("capacity", 0.0)
        if capacity <= 0 or group not in self.cpu_seconds:
            return None
        return 100.0 * self.cpu_seconds[group] / capacity

    def worker_split(self, workers: int) -> str:
        """How the app's CPU divided between its busiest ``workers`` processes, e.g. 64/36."""
        busiest = self.app_processes[:workers]
        total = sum(busiest)
        if len(busiest) < 2 or total <= 0:
            return "-"
        return "/".join(f"{100 * share / total:.0f}" for share in busiest)

    def cpu_ms_per_call(self, group: str) -> float | None:
        """CPU milliseconds ``group`` spent per completed call: robust to a busy machine."""
        if not self.calls or group not in self.cpu_seconds:
            return None
        return 1000.0 * self.cpu_seconds[group] / self.calls


@dataclass(frozen=True)
class Row:
    key: str
    title: str
    kind: Literal["http", "micro"]
    measurement: Measurement
    # Alerts (or rows) written per successful call; None when the row writes none.
    items_per_call: int | None = None
    unit: str = "req"
    note: str = ""

    @property
    def items_per_second(self) -> float | None:
        if self.items_per_call is None or self.measurement.seconds <= 0:
            return None
        return self.measurement.ok_calls * self.items_per_call / self.measurement.seconds

    @property
    def failed(self) -> bool:
        """Errors, or (over HTTP) not one response in the whole run."""
        m = self.measurement
        return m.error_count > 0 or (self.kind == "http" and m.ok_calls == 0)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    # A scenario gives one row, or several measured on one set-up (the engine ticks).
    run: "Callable[[Context], Row | list[Row]]"
    # The stack that must be up while the row runs; None for in-process rows.
    stack: StackName | None = None
