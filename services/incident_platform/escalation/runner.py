"""Runs the engine tick and the outbox delivery in background threads of the on-call service.

Two loops, not one: delivery waits on receivers (a dead one costs a timeout), and
that must never delay the next escalation step.
"""

import logging
import threading
from collections.abc import Callable

from incident_platform.db import get_engine, is_outage
from incident_platform.escalation.engine import update_all
from incident_platform.metrics import timed_engine_tick
from incident_platform.notification.delivery import deliver_due
from incident_platform.notification.signing import ack_key
from incident_platform.settings import get_settings

logger = logging.getLogger(__name__)


class EngineRunner:
    def __init__(self) -> None:
        settings = get_settings()
        ack_key(settings)  # fail at start-up, not on every tick, when links cannot be signed
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._loop,
                args=("escalation", timed_engine_tick(lambda: update_all(get_engine()))),
                name="escalation-engine",
                daemon=True,
            ),
            threading.Thread(
                target=self._loop,
                args=("delivery", lambda: deliver_due(get_engine(), settings)),
                name="notification-delivery",
                daemon=True,
            ),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _loop(self, name: str, step: Callable[[], object]) -> None:
        interval = get_settings().engine_interval_seconds
        while not self._stop.wait(interval):
            try:
                step()
            except Exception as error:
                # An outage is expected to pass; anything else is a bug worth a traceback.
                if is_outage(error):
                    logger.warning("%s tick skipped: database unavailable", name)
                else:
                    logger.exception("%s tick failed", name)
