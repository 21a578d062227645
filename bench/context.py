"""What scenarios get: the load shape, the running stack's URL and keys, and helpers."""

import secrets
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from bench import cpu
from bench.model import Measurement, StackName
from bench.profile import start_profiler, stop_profiler
from bench.stack import AppProcess, BenchDatabase, free_port
from bench.wrk import LoadShape, Rejected, run_wrk

WORKERS = 2
# The kernel hands each of wrk's connections to whichever worker accepts first, so
# the split can be 30/2, and a worker is one GIL: such a run measures one worker.
# A measured run whose split is worse than 2:1 is restarted, at most this many times
# in all; the split is reported with the figures either way.
BALANCE_ATTEMPTS = 5


def evenly_split(connections: list[int]) -> bool:
    """No worker holds more than twice the connections of another."""
    return bool(connections) and max(connections) <= 2 * min(connections)


@dataclass
class Options:
    threads: int = 2
    connections: int = 32
    seconds: float = 10.0
    warmup_seconds: float = 2.0
    workers: int = WORKERS
    alerts_per_batch: int = 100
    batch_services: int = 5
    # Incidents in the table for the list rows (l, l2), topped up by seeding.
    list_incidents: int = 100_000
    # Open incidents whose escalations the engine-tick rows (m4-m6) start at once.
    engine_incidents: int = 10_000
    # When set, py-spy samples the app's workers during each measured run (slows them).
    profile: bool = False
    # ANALYZE after each warm-up (``bench.stack.BenchDatabase.analyze`` says why).
    analyze: bool = True


@dataclass
class Context:
    options: Options
    wrk: str
    database: BenchDatabase
    work_dir: Path
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    admin_token: str = field(default_factory=lambda: f"ipt_a_bench_{secrets.token_urlsafe(24)}")
    apps: dict[StackName, list[AppProcess]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    current: StackName | None = None

    # -- stacks -----------------------------------------------------------------------------

    def use(self, stack: StackName | None) -> None:
        """Makes ``stack`` the one running (None: stop all); one stack at a time."""
        if stack == self.current:
            return
        self.stop_all()
        if stack == "baseline":
            self._start_baseline()
        elif stack == "platform":
            self._start_platform()
        elif stack == "incidents":
            self._start_incidents()
        self.current = stack

    def stop_all(self) -> None:
        for processes in self.apps.values():
            for process in processes:
                process.stop()
        self.apps.clear()
        self.current = None

    def app(self, stack: StackName, index: int = 0) -> AppProcess:
        return self.apps[stack][index]

    def _env(self, name: str) -> dict[str, str]:
        import os

        # prometheus_client opens its files in this directory as metrics.py is imported,
        # before serve() prepares it: it must exist by then.
        (self.work_dir / f"prometheus-{name}").mkdir(parents=True, exist_ok=True)
        return dict(
            os.environ,
            DATABASE_URL=self.database.url,
            PLATFORM_ADMIN_TOKEN=self.admin_token,
            PROMETHEUS_MULTIPROC_DIR=str(self.work_dir / f"prometheus-{name}"),
        )

    def _process(self, name: str, module: str) -> AppProcess:
        return AppProcess(
            name=name,
            module=module,
            port=free_port(),
            workers=self.options.workers,
            env=self._env(name),
            log_path=self.work_dir / f"{name}.log",
        )

    def _start_baseline(self) -> None:
        app = self._process("baseline", "bench.baseline_app")
        self.apps["baseline"] = [app]
        print(f"starting baseline app ({app.workers} workers) on {app.url}", flush=True)
        app.start("/readyz")

    def _start_platform(self) -> None:
        # Only alert ingestion takes load in these rows; incident management would sit idle.
        app = self._process("alert-ingestion", "incident_platform.entrypoints.alert_ingestion")
        self.apps["platform"] = [app]
        print(f"starting alert ingestion ({app.workers} workers) on {app.url}", flush=True)
        app.start("/readyz")
        for kind in ("generic", "alertmanager"):
            if kind not in self.keys:
                self.keys[kind] = self._create_integration(app.url, kind)

    def _start_incidents(self) -> None:
        app = self._process(
            "incident-management", "incident_platform.entrypoints.incident_management"
        )
        self.apps["incidents"] = [app]
        print(f"starting incident management ({app.workers} workers) on {app.url}", flush=True)
        app.start("/readyz")

    def _create_integration(self, url: str, kind: str) -> str:
        response = httpx.post(
            f"{url}/api/v1/integrations",
            headers={"Authorization": f"Bearer {self.admin_token}"},
            json={"name": f"bench-{kind}-{self.run_id}", "kind": kind},
            timeout=10,
        )
        if response.status_code != 201:
            raise RuntimeError(
                f"creating a {kind} integration: {response.status_code} {response.text}"
            )
        return str(response.json()["key"])

    # -- load -------------------------------------------------------------------------------

    def load(
        self,
        key: str,
        app: AppProcess,
        path: str,
        *,
        script: str,
        args: list[str] | None = None,
        bearer: str | None = None,
        connections: int | None = None,
    ) -> Measurement:
        """A short warm-up, then the measured wrk run; both with fresh unique bodies."""
        url = app.url + path
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else None
        extra = args or []
        options = self.options
        if connections is not None:
            options = replace(
                options, connections=connections, threads=min(options.threads, connections)
            )
        if options.warmup_seconds > 0:
            run_wrk(
                self.wrk,
                url,
                script=script,
                shape=LoadShape(options.threads, options.connections, options.warmup_seconds),
                args=[f"{key}{self.run_id}w", *extra],
                headers=headers,
                log=self.work_dir / f"wrk-{key}-warmup.txt",
            )
        if options.analyze:
            self.database.analyze()
        profiler = (
            start_profiler(app, options.seconds, self.work_dir / f"profile-{key}.txt")
            if (options.profile)
            else None
        )
        groups = {app.process.pid} if app.process is not None else set()
        for attempt in range(1, BALANCE_ATTEMPTS + 1):
            spread: list[int] = []
            last = attempt == BALANCE_ATTEMPTS

            def balanced(last: bool = last, spread: list[int] = spread) -> bool:
                spread[:] = app.connections_per_worker()
                return last or evenly_split(spread)

            self.database.reset_statements()
            with self.database.stats() as (sessions, postmaster):
                opened = sessions()
                before = cpu.snapshot(groups)
                try:
                    with cpu.BackendSampler(postmaster, self.database.name) as backends:
                        measurement = run_wrk(
                            self.wrk,
                            url,
                            script=script,
                            shape=LoadShape(options.threads, options.connections, options.seconds),
                            args=[f"{key}{self.run_id}m{attempt}", *extra],
                            headers=headers,
                            log=self.work_dir / f"wrk-{key}.txt",
                            accept=balanced if options.workers > 1 else None,
                        )
                except Rejected:
                    split = "/".join(map(str, spread))
                    print(f"    wrk's connections split {split} between workers: reconnecting")
                    continue
                after = cpu.snapshot(groups)
                time.sleep(0.6)  # PostgreSQL flushes session statistics at most every 0.5-1 s
                new_sessions = sessions() - opened
            statements = self.database.read_statements()
            rss = app.worker_rss_mib()
            break
        if profiler is not None:
            stop_profiler(profiler)
        return replace(
            measurement,
            cpu_seconds=cpu.usage(before, after, backends.seconds),
            app_processes=tuple(cpu.per_process(before, after, "app")),
            new_sessions=new_sessions,
            worker_connections=tuple(spread),
            attempts=attempt,
            statements=statements,
            worker_rss_mib=tuple(rss),
        )
