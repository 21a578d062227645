"""Fans the change feed out to event-stream subscribers, woken by PostgreSQL NOTIFY.

One ``ChangeBroadcaster`` per worker process: one LISTEN connection on ``incident_changes``
(sent after the commits that change incidents, incident/notify.py) and one reader
that follows the feed (incident/feed.py) from where it started. Each batch it reads goes to
every subscriber's queue in the same step that moves its position, so a subscriber that
registered at position P receives exactly the changes after P, in order.

With no subscriber, the reader only moves its position to the horizon, reading no change.

Notifications only wake the reader; what it serves comes from the feed, so a lost
notification delays a change by at most ``events_poll_seconds`` and never drops it. When a
change is held back by the horizon (a transaction still running), the reader looks again
shortly instead of waiting for the next notification.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import psycopg

from incident_platform.incident.feed import Position
from incident_platform.incident.notify import CHANNEL

logger = logging.getLogger(__name__)

_HELD_BACK_RETRY_SECONDS = 0.05
_HELD_BACK_MAX_SECONDS = 1.0
T = TypeVar("T")


@dataclass(frozen=True)
class FeedBatch(Generic[T]):
    items: list[tuple[Position, T]]
    horizon: Position
    # A change exists beyond the horizon: look again soon, not at the next notification.
    held_back: bool


class SubscriberGone(Exception):
    """The subscriber fell too far behind and was dropped; it should reconnect."""


@dataclass(eq=False)
class Subscription(Generic[T]):
    start: Position
    queue: asyncio.Queue[tuple[Position, T] | None]
    dropped: bool = False

    async def next(self) -> tuple[Position, T] | None:
        """The next change, or None when the broadcaster is shutting down."""
        item = await self.queue.get()
        if item is None and self.dropped:
            raise SubscriberGone
        return item


@dataclass(eq=False)
class ChangeBroadcaster(Generic[T]):
    """``read(after, limit)`` runs in a thread and returns the next batch of the feed."""

    conninfo: str
    read: Callable[[Position | None, int], FeedBatch[T]]
    poll_seconds: float
    page_size: int
    queue_size: int
    position: Position | None = None
    _subscribers: set[Subscription[T]] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._follow(), name="incident-feed-reader"),
            asyncio.create_task(self._listen(), name="incident-feed-listener"),
        ]

    async def stop(self) -> None:
        """Ends every subscription (their streams close cleanly), then the tasks."""
        self._stopping = True
        for subscription in list(self._subscribers):
            self._end(subscription)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def subscribe(self) -> Subscription[T]:
        """A subscription starting at the current position (after the last batch read)."""
        # Not ready yet (its first read failed: no database): the caller answers 503.
        async with asyncio.timeout(self.poll_seconds + 5):
            await self._ready.wait()
        assert self.position is not None
        subscription: Subscription[T] = Subscription(self.position, asyncio.Queue())
        if self._stopping:
            subscription.queue.put_nowait(None)
        else:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription[T]) -> None:
        self._subscribers.discard(subscription)

    def _end(self, subscription: Subscription[T], *, dropped: bool = False) -> None:
        self._subscribers.discard(subscription)
        subscription.dropped = dropped
        subscription.queue.put_nowait(None)

    def _publish(self, batch: FeedBatch[T]) -> None:
        # One synchronous step: no subscriber can register between the move and the fan-out.
        if batch.items:
            self.position = batch.items[-1][0]
        elif self.position is None or batch.horizon > self.position:
            self.position = max(batch.horizon, self.position or batch.horizon)
        for subscription in list(self._subscribers):
            if subscription.queue.qsize() + len(batch.items) > self.queue_size:
                logger.warning("event subscriber too far behind; disconnecting it")
                self._end(subscription, dropped=True)
                continue
            for item in batch.items:
                subscription.queue.put_nowait(item)
        self._ready.set()

    async def _follow(self) -> None:
        failures = 0
        held_back = 0
        while not self._stopping:
            # Nobody subscribed: follow only the horizon (``read(None, ...)``) instead of
            # reading and serialising every change for no one; a subscriber starts at the
            # position reached. Measured: a worker catching up on 100,000 new incidents spent
            # most of its CPU here, under the requests it served.
            skipping = not self._subscribers
            try:
                batch = await asyncio.to_thread(
                    self.read, None if skipping else self.position, self.page_size
                )
            except Exception as error:  # an outage must not end the stream; retry with backoff
                failures += 1
                delay = min(self.poll_seconds * 2**failures, 30.0)
                logger.warning("event feed: %s; retrying in %.1fs", type(error).__name__, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if skipping and self._subscribers:
                # Subscribed while the horizon was read: moving there could skip changes
                # after their start that they would never get. Read them instead.
                continue
            self._publish(batch)
            if len(batch.items) >= self.page_size:
                continue
            # Held back by a running transaction: look again soon, backing off while it runs.
            held_back = held_back + 1 if batch.held_back else 0
            timeout = (
                min(_HELD_BACK_RETRY_SECONDS * 2 ** (held_back - 1), _HELD_BACK_MAX_SECONDS)
                if held_back
                else self.poll_seconds
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            self._wake.clear()

    async def _listen(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, connect_timeout=5
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    failures = 0
                    # Anything committed while not listening is read now.
                    self._wake.set()
                    async for _ in connection.notifies():
                        self._wake.set()
            except psycopg.Error as error:
                failures += 1
                delay = min(0.5 * 2**failures, 30.0)
                logger.warning("event listener: %s; reconnecting in %.1fs", error, delay)
                await asyncio.sleep(delay)
