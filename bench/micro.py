"""Micro-benchmarks: time a Python call in process with time.perf_counter."""

import gc
import statistics
import time
from collections.abc import Callable

from bench.model import Measurement


def time_calls(
    call: Callable[[], object],
    *,
    iterations: int,
    warmup: int = 10,
    max_seconds: float = 20.0,
) -> Measurement:
    """Calls ``call`` ``warmup`` times, then up to ``iterations`` times (or ``max_seconds``).

    Each call is timed on its own, so p50/p99 are per call. The garbage collector
    runs before the loop and stays on, as it would in a service.
    """
    for _ in range(warmup):
        call()
    gc.collect()
    samples: list[float] = []
    started = time.perf_counter()
    deadline = started + max_seconds
    for _ in range(iterations):
        before = time.perf_counter()
        call()
        after = time.perf_counter()
        samples.append(after - before)
        if after > deadline:
            break
    total = time.perf_counter() - started
    if len(samples) >= 2:
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        p50, p99 = cuts[49], cuts[98]
    else:
        p50 = p99 = samples[0]
    return Measurement(
        calls=len(samples),
        ok_calls=len(samples),
        seconds=total,
        p50_ms=p50 * 1000,
        p99_ms=p99 * 1000,
    )
