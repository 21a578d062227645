"""Lets time pass over quiet flapping alerts, in a background thread of the ingestion
service, so that an alert that settled stops flapping (``alert.ingest.sweep_quiet_flaps``)."""

import logging
import threading

from incident_platform.alert.ingest import sweep_quiet_flaps
from incident_platform.db import DatabaseUnavailable, get_engine, is_outage
from incident_platform.settings import get_settings

logger = logging.getLogger(__name__)


class FlapSweeper:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flap-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        interval = get_settings().flap_sweep_seconds
        while not self._stop.wait(interval):
            try:
                swept = sweep_quiet_flaps(get_engine())
                if swept:
                    logger.info("counted quiet checks of %d flapping alerts", swept)
            except Exception as error:
                if isinstance(error, DatabaseUnavailable) or is_outage(error):
                    logger.warning("flap sweep skipped: database unavailable")
                else:
                    logger.exception("flap sweep failed")
