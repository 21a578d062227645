"""A background thread that runs one sweep every few seconds until it is stopped.

The ingestion service runs two: releasing the alerts of silences that ended on their own
(``alert.ingest.sweep_ended_silences``) and letting time pass over quiet flapping alerts
(``alert.ingest.sweep_quiet_flaps``). Each sweep takes its own advisory lock or row locks,
so every worker of every replica may run it.
"""

import logging
import threading
from collections.abc import Callable

from incident_platform.db import DatabaseUnavailable, is_outage

logger = logging.getLogger(__name__)


class PeriodicSweep:
    """``sweep`` returns how many things it handled; ``done`` logs that count when not 0."""

    def __init__(
        self, name: str, interval: Callable[[], float], sweep: Callable[[], int], done: str
    ) -> None:
        self._name = name
        self._interval = interval
        self._sweep = sweep
        self._done = done
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        interval = self._interval()
        while not self._stop.wait(interval):
            try:
                handled = self._sweep()
                if handled:
                    logger.info(self._done, handled)
            except Exception as error:
                # An outage is expected to pass; anything else is a bug worth a traceback.
                if isinstance(error, DatabaseUnavailable) or is_outage(error):
                    logger.warning("%s skipped: database unavailable", self._name)
                else:
                    logger.exception("%s failed", self._name)
