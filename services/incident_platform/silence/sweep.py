"""Releases the alerts of silences that ended on their own, in a background thread.

Expiring or changing a silence through the API releases its alerts at once; this
loop catches silences whose ``endsAt`` passed, and any alert a concurrent request
left muted by a silence that had just ended.
"""

import logging
import threading

from incident_platform.alert.ingest import sweep_ended_silences
from incident_platform.db import DatabaseUnavailable, get_engine, is_outage
from incident_platform.settings import get_settings

logger = logging.getLogger(__name__)


class SilenceSweeper:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="silence-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        interval = get_settings().silence_sweep_seconds
        while not self._stop.wait(interval):
            try:
                released = sweep_ended_silences(get_engine())
                if released:
                    logger.info("released %d alerts of ended silences", released)
            except Exception as error:
                # An outage is expected to pass; anything else is a bug worth a traceback.
                if isinstance(error, DatabaseUnavailable) or is_outage(error):
                    logger.warning("silence sweep skipped: database unavailable")
                else:
                    logger.exception("silence sweep failed")
