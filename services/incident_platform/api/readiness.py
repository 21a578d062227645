"""Waiting for the database at start-up, and what ``/readyz`` answers."""

import logging

from fastapi import FastAPI
from pydantic import BaseModel
from tenacity import Retrying, retry_if_exception_type, wait_exponential_jitter

from incident_platform.db import get_engine, schema_status

logger = logging.getLogger(__name__)


class Readiness(BaseModel):
    status: str
    reason: str | None = None


class NotReady(Exception):
    pass


def await_database(app: FastAPI) -> None:
    """Retries with exponential backoff and jitter until the database is usable.

    Requests are served all along (answering 503 while the database is missing);
    this loop is what reports progress and flips readiness without a restart.
    Migrations are not run here: a deployment runs them once (a Helm hook Job,
    the compose ``migrate`` service, ``make run``), not every replica at start.
    """

    def attempt() -> None:
        reason = schema_status(get_engine())
        if reason is not None:
            raise NotReady(reason)

    for try_ in Retrying(
        wait=wait_exponential_jitter(initial=0.2, max=5, jitter=0.5),
        retry=retry_if_exception_type(NotReady),
        before_sleep=lambda state: logger.warning(
            "database not ready yet (%s); retrying", state.outcome and state.outcome.exception()
        ),
    ):
        with try_:
            if app.state.stopping:
                return
            attempt()
    logger.info("database ready")
