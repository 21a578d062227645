"""Migrate the platform's database to head; the chart runs this with `python -c`.

Used by the migration Job (a pre-install/pre-upgrade hook) and, with the bundled PostgreSQL,
by an init container of each service. While the database cannot be reached (it may still be
starting) it retries for MIGRATE_WAIT_SECONDS (default 300), then fails. Any other error
fails at once. Alembic takes an advisory lock, so concurrent runs are safe: the first
upgrades, the others find the schema at head and do nothing.
"""

import os
import sys
import time

from incident_platform.db import is_outage, migrate

deadline = time.monotonic() + float(os.environ.get("MIGRATE_WAIT_SECONDS", "300"))
while True:
    try:
        migrate()
    except Exception as error:
        if not is_outage(error) or time.monotonic() >= deadline:
            raise
        print(
            f"database not reachable yet ({type(error).__name__}): retrying in 2 s",
            file=sys.stderr,
            flush=True,
        )
        time.sleep(2)
    else:
        print("database schema is at head", flush=True)
        break
