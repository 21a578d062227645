"""Group commit: concurrent requests of one worker share one ingest transaction.

Every way alerts arrive (the generic endpoint, PagerDuty events, the Alertmanager
webhook, and the operator through the generic endpoint) hands its alerts to the
worker's :class:`AlertBatcher` and awaits the outcome. The batcher runs at most
``writers`` transactions at a time; requests that arrive while those are being
written queue up and become the next batch, so the batch size follows the load:
one alert per transaction when the worker is idle (no wait at all), dozens under a
storm. The set-based writer (``alert.ingest``) costs a handful of statements per
batch whatever its size, which is what makes this pay.

A request is answered only after the transaction holding its alerts committed.
When a coalesced batch fails, each member gets its own answer: an outage (the
database is down, a timeout) fails every member with :class:`DatabaseUnavailable`
(503 + Retry-After); any other error is the fault of some member's data, so the
members are written again one by one and only the faulty one fails. A plan made
stale by another writer is re-planned inside :func:`alert.ingest.ingest`.

The policy (which queued requests form the next batch, and how long to linger
for more) is pure functions at the top of this module.
"""

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine

from incident_platform.alert.correlation import AlertSignal
from incident_platform.alert.ingest import BatchOutcome, IngestOutcome, ingest
from incident_platform.db import DatabaseUnavailable, is_outage
from incident_platform.metrics import ALERTS_RECEIVED, INGEST_TRANSACTIONS, observe_resolved
from incident_platform.settings import Settings

logger = logging.getLogger(__name__)


# --- Policy (pure) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """Bounds of group commit: ``max_alerts`` per transaction, at most ``max_wait_seconds``
    spent gathering a batch, ``writers`` transactions in flight per worker."""

    max_alerts: int = 500
    max_wait_seconds: float = 0.002
    writers: int = 1


@dataclass(frozen=True, slots=True)
class BatchKey:
    """What the members of one transaction must share: the timeline's actor and the
    auto-resolve setting are parameters of the whole write."""

    actor: str
    auto_resolve: bool


@dataclass(frozen=True, slots=True)
class Queued:
    """A waiting request as the policy sees it."""

    key: BatchKey
    alerts: int


def next_batch(queue: Sequence[Queued], max_alerts: int) -> list[int]:
    """The group-commit rule: which queued requests the next transaction writes.

    The oldest request always goes (even alone above ``max_alerts``: a request is never
    split across transactions, so its alerts commit together); then, in arrival order,
    every later request with the same key while the batch stays within ``max_alerts``.
    Requests with another key wait for a batch of their own, in their order.
    """
    if not queue:
        return []
    first = queue[0]
    taken = [0]
    total = first.alerts
    for position in range(1, len(queue)):
        candidate = queue[position]
        if candidate.key != first.key:
            continue
        if total + candidate.alerts > max_alerts:
            break
        taken.append(position)
        total += candidate.alerts
    return taken


def linger_seconds(*, queued_alerts: int, writer_was_idle: bool, policy: BatchPolicy) -> float:
    """How long a writer waits for more requests before it starts a batch.

    None at all when the writer was idle (a lone alert goes straight in) or when the
    queue already fills a batch; otherwise the bounded ``max_wait_seconds``, so that the
    requests answered by the previous commit can come back and join.
    """
    if writer_was_idle or queued_alerts >= policy.max_alerts:
        return 0.0
    return policy.max_wait_seconds


def split_outcomes(
    sizes: Sequence[int], outcomes: Sequence[IngestOutcome]
) -> list[list[IngestOutcome]]:
    """Cut a batch's outcomes (in the batch's order) back into its members' shares."""
    if sum(sizes) != len(outcomes):
        raise ValueError(f"{len(outcomes)} outcomes for members of {sum(sizes)} alerts")
    shares, start = [], 0
    for size in sizes:
        shares.append(list(outcomes[start : start + size]))
        start += size
    return shares


def is_shared_failure(error: BaseException) -> bool:
    """Whether a failed batch's error is every member's (the database is unavailable),
    rather than the fault of one member's data."""
    return isinstance(error, DatabaseUnavailable) or is_outage(error)


# --- The batcher (asyncio) --------------------------------------------------------------


class Writer(Protocol):
    """Writes one transaction of alerts (blocking; run in a thread)."""

    def __call__(
        self, signals: Sequence[AlertSignal], *, actor: str, auto_resolve: bool
    ) -> BatchOutcome: ...


@dataclass(slots=True)
class _Request:
    key: BatchKey
    source: str
    signals: Sequence[AlertSignal]
    answer: "asyncio.Future[list[IngestOutcome]]"


@dataclass
class AlertBatcher:
    """Coalesces the worker's concurrent ingest requests into shared transactions."""

    write: Writer
    policy: BatchPolicy = field(default_factory=BatchPolicy)
    _queue: deque[_Request] = field(default_factory=deque, init=False)
    _busy_writers: int = field(default=0, init=False)

    async def submit(
        self, signals: Sequence[AlertSignal], *, source: str, actor: str, auto_resolve: bool
    ) -> list[IngestOutcome]:
        """Store ``signals`` in the next transaction; their outcomes, in order, once it
        committed. Raises what the write raised for them (``DatabaseUnavailable``...)."""
        if not signals:
            return []
        answer: asyncio.Future[list[IngestOutcome]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Request(BatchKey(actor, auto_resolve), source, signals, answer))
        if self._busy_writers < self.policy.writers:
            self._busy_writers += 1
            asyncio.get_running_loop().create_task(self._drain(writer_was_idle=True))
        # Shielded: a client that goes away does not cancel the others' transaction.
        return await asyncio.shield(answer)

    async def _drain(self, *, writer_was_idle: bool) -> None:
        try:
            while self._queue:
                wait = linger_seconds(
                    queued_alerts=sum(len(r.signals) for r in self._queue),
                    writer_was_idle=writer_was_idle,
                    policy=self.policy,
                )
                if wait > 0:
                    await asyncio.sleep(wait)
                batch = self._take()
                await self._write_batch(batch)
                writer_was_idle = False
        finally:
            self._busy_writers -= 1

    def _take(self) -> list[_Request]:
        requests = list(self._queue)
        chosen = next_batch(
            [Queued(r.key, len(r.signals)) for r in requests], self.policy.max_alerts
        )
        picked = set(chosen)
        self._queue = deque(r for position, r in enumerate(requests) if position not in picked)
        return [requests[position] for position in chosen]

    async def _write_batch(self, batch: list[_Request]) -> None:
        try:
            shares = await self._write_shares(batch)
        except BaseException as error:  # every member learns what happened to it
            for request in batch:
                _settle(request, error=error)
            if not isinstance(error, Exception):
                raise
            return
        for request, share in zip(batch, shares, strict=True):
            if isinstance(share, BaseException):
                _settle(request, error=share)
            else:
                _settle(request, outcomes=share)

    async def _write_shares(
        self, batch: list[_Request]
    ) -> list[list[IngestOutcome] | BaseException]:
        try:
            outcome = await asyncio.to_thread(self._write_and_record, batch)
        except Exception as error:
            if len(batch) == 1 or is_shared_failure(error):
                raise
            logger.info(
                "a batch of %d requests failed (%s): writing them one by one",
                len(batch),
                type(error).__name__,
            )
            return [await self._write_alone(request) for request in batch]
        INGEST_TRANSACTIONS.inc()
        return list(split_outcomes([len(r.signals) for r in batch], outcome.outcomes))

    async def _write_alone(self, request: _Request) -> list[IngestOutcome] | BaseException:
        try:
            outcome = await asyncio.to_thread(self._write_and_record, [request])
        except Exception as error:
            return error
        INGEST_TRANSACTIONS.inc()
        return outcome.outcomes

    def _write_and_record(self, batch: list[_Request]) -> BatchOutcome:
        key = batch[0].key
        signals = [signal for request in batch for signal in request.signals]
        outcome = self.write(signals, actor=key.actor, auto_resolve=key.auto_resolve)
        # Counted per (source, action), not per alert: a labelled counter's update costs
        # a lookup and a lock each, 450 times in a batch of webhooks otherwise.
        received: Counter[tuple[str, str]] = Counter()
        for request, share in zip(
            batch, split_outcomes([len(r.signals) for r in batch], outcome.outcomes), strict=True
        ):
            received.update((request.source, o.action.value) for o in share)
        for (source, action), count in received.items():
            ALERTS_RECEIVED.labels(source=source, action=action).inc(count)
        for incident in outcome.auto_resolved:
            observe_resolved(
                incident.service, incident.severity, incident.created_at, incident.resolved_at
            )
        return outcome


def _settle(
    request: _Request,
    *,
    outcomes: list[IngestOutcome] | None = None,
    error: BaseException | None = None,
) -> None:
    if request.answer.done():  # its waiter was cancelled
        return
    if isinstance(error, asyncio.CancelledError):
        request.answer.cancel()
    elif error is not None:
        request.answer.set_exception(error)
    else:
        request.answer.set_result(outcomes or [])


def engine_writer(engine: Engine) -> Writer:
    def write(signals: Sequence[AlertSignal], *, actor: str, auto_resolve: bool) -> BatchOutcome:
        return ingest(engine, signals, actor=actor, auto_resolve=auto_resolve)

    return write


def policy_from(settings: Settings) -> BatchPolicy:
    return BatchPolicy(
        max_alerts=settings.ingest_batch_max_alerts,
        max_wait_seconds=settings.ingest_batch_max_wait_ms / 1000,
        writers=settings.ingest_batch_writers,
    )


_batchers: dict[tuple[int, int], AlertBatcher] = {}


def batcher_for(engine: Engine, settings: Settings) -> AlertBatcher:
    """The running event loop's batcher for ``engine`` (one per worker process)."""
    loop = asyncio.get_running_loop()
    slot = (id(loop), id(engine))
    batcher = _batchers.get(slot)
    if batcher is None:
        batcher = _batchers[slot] = AlertBatcher(engine_writer(engine), policy_from(settings))
    return batcher
