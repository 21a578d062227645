"""``make bench``: load benchmark of the services on loopback, with a same-run baseline.

Everything runs on the same machine and the same cores, so absolute figures say
little on their own: each run measures a bare FastAPI baseline too, and the
ratios against it are what to compare between runs and machines.

Adding a row: write a function ``(Context) -> Row`` in :mod:`bench.scenarios`
and append a :class:`bench.model.Scenario` for it to ``SCENARIOS``. An HTTP row
drives a running stack with wrk (:func:`bench.wrk.run_wrk`, a Lua script in
``bench/lua``); a micro-benchmark row times a Python call in process with
:func:`bench.micro.time_calls`. Stacks (the baseline app, the platform's
services) are started on first use and stopped when no later row needs them.
"""
