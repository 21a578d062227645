"""``python -m bench`` (``make bench``): run every row, print the table, write the doc.

Options (``make bench BENCH_ARGS="--seconds 20 --only a,b,c"``): see ``--help``.
Exits 1 when a row had errors or failed to run, so a broken run is not mistaken
for a slow one; missing the performance aims is reported, not an error.
"""

import argparse
import json
import signal
import sys
import traceback
from dataclasses import asdict
from pathlib import Path
from types import FrameType

import httpx
import psycopg

from bench import cpu
from bench.context import Context, Options
from bench.model import Row
from bench.report import (
    cpu_text_table,
    error_lines,
    machine,
    markdown,
    noise_lines,
    statements_text,
    text_table,
    verdicts,
    write_doc,
)
from bench.scenarios import SCENARIOS
from bench.stack import REPO_ROOT, BenchDatabase, fresh_dir
from bench.wrk import WrkError, ensure_wrk, wrk_version


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per row")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per row")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per app")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=10.0,
        help="before each row, wait up to this many seconds for other processes to calm down",
    )
    parser.add_argument("--only", default="", help="comma-separated row keys, e.g. a,b,c")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the workers with py-spy during each measured HTTP run",
    )
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="skip the ANALYZE after each warm-up: measure a new install's first minute,"
        " before autovacuum has gathered the planner's statistics",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="the document to update (default docs/performance.md)",
    )
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the doc alone")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=REPO_ROOT / ".data" / "bench",
        help="where logs, raw wrk output and results.json go (emptied first)",
    )
    parser.add_argument(
        "--database",
        choices=("own", "shared"),
        default="own",
        help="own: start a PostgreSQL 15 with pg_stat_statements for the run (default, when"
        " the Debian binaries are there); shared: $DATABASE_URL, else 127.0.0.1:5432,"
        " else embedded",
    )
    parser.add_argument(
        "--list-incidents", type=int, default=100_000, help="incidents behind the list rows"
    )
    parser.add_argument(
        "--engine-incidents",
        type=int,
        default=10_000,
        help="open incidents whose escalations one engine tick starts",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a check of the harness, not a measurement: 2 s rows, no warm-up, no waiting"
        " for quiet, 1,000 incidents listed, 200 escalations; writes no doc unless --output",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup, args.wait_quiet = 2.0, 0.0, 0.0
        args.list_incidents, args.engine_incidents = 1_000, 200
        args.no_doc = args.no_doc or args.output is None
    if args.output is None:
        args.output = REPO_ROOT / "docs" / "performance.md"
    return args


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    options = Options(
        threads=args.threads,
        connections=args.connections,
        seconds=args.seconds,
        warmup_seconds=args.warmup,
        workers=args.workers,
        profile=args.profile,
        analyze=not args.no_analyze,
        list_incidents=args.list_incidents,
        engine_incidents=args.engine_incidents,
    )
    wanted = {key.strip() for key in args.only.split(",") if key.strip()}
    scenarios = [s for s in SCENARIOS if not wanted or s.key in wanted]
    if not scenarios:
        print(f"no row matches --only {args.only!r}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop_on_sigterm)

    wrk = ensure_wrk()
    work_dir = fresh_dir(args.work_dir)
    database = BenchDatabase(REPO_ROOT / ".data" / "bench-postgres", own=args.database == "own")
    rows: list[Row] = []
    failures: list[str] = []
    noisy: list[str] = []
    facts: dict[str, str] = {}
    context: Context | None = None
    try:
        print("creating and migrating a fresh database ...", flush=True)
        database.create()
        context = Context(options=options, wrk=wrk, database=database, work_dir=work_dir)
        facts = machine(database.describe(), wrk_version(wrk))
        for name, value in facts.items():
            print(f"  {name}: {value}", flush=True)
        if not database.statements:
            print("  (pg_stat_statements is not preloaded: no statement profile)", flush=True)
        for scenario in scenarios:
            try:
                context.use(scenario.stack)
                print(f"[{scenario.key}] {scenario.title} ...", flush=True)
                busy = cpu.wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else 0.0
                if busy > cpu.QUIET:
                    noisy.append(
                        f"row ({scenario.key}) started on a busy machine:"
                        f" {busy:.0f}% of the cores in use by other processes"
                    )
                result = scenario.run(context)
            except (WrkError, RuntimeError, OSError, httpx.HTTPError, psycopg.Error) as error:
                message = f"ROW ({scenario.key}) FAILED TO RUN: {error}"
                print(f"!!! {message}", flush=True)
                failures.append(message)
                continue
            except Exception as error:  # a broken row must not lose the rows measured so far
                traceback.print_exc()
                message = f"ROW ({scenario.key}) FAILED TO RUN: {error}"
                print(f"!!! {message}", flush=True)
                failures.append(message)
                continue
            for row in result if isinstance(result, list) else [result]:
                rows.append(row)
                m = row.measurement
                print(
                    f"    [{row.key}] {m.calls_per_second:,.0f} req/s, p50 {m.p50_ms:.2f} ms,"
                    f" p99 {m.p99_ms:.2f} ms"
                    + (f", ERRORS {m.errors} {m.statuses}" if row.failed else "")
                    + (f"; {row.note}" if row.note else ""),
                    flush=True,
                )
        context.use(None)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything", file=sys.stderr, flush=True)
        return 130
    finally:
        # A second Ctrl-C or SIGTERM must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if context is not None:
            context.stop_all()
        database.drop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    load = (
        f"wrk -t{options.threads} -c{options.connections}, {options.warmup_seconds:g} s warm-up"
        f"{', ANALYZE' if options.analyze else ', no ANALYZE'}"
        f" then {options.seconds:g} s measured per row; {options.workers} uvicorn workers"
    )
    (work_dir / "results.json").write_text(
        json.dumps({"facts": facts, "load": load, "rows": [asdict(row) for row in rows]}, indent=1)
    )
    print()
    print(text_table(rows))
    print()
    for verdict in verdicts(rows):
        print(verdict.text())
    print("\nCPU during the measured run, % of all cores:")
    print(cpu_text_table(rows))
    print(f"({load}; logs and raw wrk output in {work_dir})")
    profile = statements_text(rows)
    if profile:
        print("\nWhere PostgreSQL's execution time went (pg_stat_statements, top 3 per row):")
        print(profile)
    print("\nMachine:")
    for name, value in facts.items():
        print(f"  {name}: {value}")
    during = noise_lines(rows)
    flagged = {line.split(")")[0] for line in during}
    warnings = during + [line for line in noisy if line.split(")")[0] not in flagged]
    if warnings:
        print("\nWARNING, the machine was not quiet:\n  " + "\n  ".join(warnings))
    problems = error_lines(rows) + failures
    if problems:
        print("\n" + "!" * 78)
        print("\n".join(problems))
        print("!" * 78)
    if not args.no_doc:
        write_doc(
            args.output, markdown(rows, facts, load=load, failures=failures, warnings=warnings)
        )
        print(f"wrote {args.output}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
