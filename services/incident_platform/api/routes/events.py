"""``GET /api/v1/events``: incident changes as Server-Sent Events.

Each event is an incident's state after a change, ``event: incident``, ``id:`` its feed
position and ``data:`` the incident as ``GET /api/v1/incidents`` lists it. A client that
reconnects with ``Last-Event-ID`` first gets every incident changed since that position
(from the feed, in order), then the live changes, each once. ``event: ready`` marks the
point where the stream is live (its ``id`` is the position reached): a client without a
``Last-Event-ID`` should (re)load what it shows at that point, since changes before it are
not replayed. Comment lines are heartbeats.
"""

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from types import FrameType
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlmodel import Session

from incident_platform.api.deps import SettingsDep, ViewerDep
from incident_platform.api.errors import invalid
from incident_platform.db import DatabaseUnavailable, get_engine, libpq_url
from incident_platform.incident.events import (
    ChangeBroadcaster,
    FeedBatch,
    SubscriberGone,
    Subscription,
)
from incident_platform.incident.feed import (
    InvalidPosition,
    Position,
    changes_after,
    horizon,
    newest_change,
    parse_position,
)
from incident_platform.incident.models import public_fields, public_json
from incident_platform.settings import get_settings

router = APIRouter(prefix="/api/v1/events", tags=["events"])

RETRY_MILLISECONDS = 2000


def read_feed(after: Position | None, limit: int) -> FeedBatch[str]:
    """The next batch after ``after`` (none: just the horizon), serialised for the stream."""
    with Session(get_engine()) as session:
        # The horizon first: everything below it is final, so also in the next statement.
        bound = horizon(session)
        if after is None:
            return FeedBatch([], bound, held_back=False)
        rows = changes_after(session, after, limit=limit, below=bound)
        newest = newest_change(session)
        items = [
            (Position(row.change_seq, row.id), public_json(public_fields(row)).decode())
            for row in rows
        ]
        return FeedBatch(items, bound, held_back=newest is not None and newest > bound.change_seq)


def _broadcaster(app: FastAPI) -> ChangeBroadcaster[str]:
    events: ChangeBroadcaster[str] = app.state.events
    return events


@contextlib.asynccontextmanager
async def broadcasting(app: FastAPI) -> AsyncIterator[None]:
    """The incident service's broadcaster, started with the app and stopped on SIGTERM.

    uvicorn waits for open responses to finish before it shuts the app down, and an event
    stream never finishes by itself: so the exit signal ends the streams first (then
    uvicorn's own handler runs), and shutdown is prompt and clean.
    """
    settings = get_settings()
    broadcaster: ChangeBroadcaster[str] = ChangeBroadcaster(
        conninfo=libpq_url(str(settings.database_url)),
        read=read_feed,
        poll_seconds=settings.events_poll_seconds,
        page_size=settings.events_page_size,
        queue_size=settings.events_queue_size,
    )
    app.state.events = broadcaster
    broadcaster.start()
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def on_exit(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(lambda: loop.create_task(broadcaster.stop()))
        handler = previous[signal.Signals(signum)]
        if callable(handler):
            handler(signum, frame)

    for sig in previous:
        signal.signal(sig, on_exit)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        await broadcaster.stop()


def _resume_position(
    last_event_id: Annotated[
        str | None,
        Header(
            description="The id of the last event received: the stream resumes after it",
            max_length=64,
        ),
    ] = None,
) -> Position | None:
    if last_event_id is None or not last_event_id.strip():
        return None
    try:
        return parse_position(last_event_id)
    except InvalidPosition as error:
        raise invalid(("header", "Last-Event-ID"), str(error)) from error


@dataclass
class OpenStream:
    subscription: Subscription[str]
    start: Position
    first_page: FeedBatch[str]


async def _open_stream(
    request: Request,
    _: ViewerDep,
    resume: Annotated[Position | None, Depends(_resume_position)],
    settings: SettingsDep,
) -> AsyncIterator[OpenStream]:
    """Subscribes before reading what was missed, so nothing falls between the two; the
    first read happens here, before the response starts, so an outage is a 503."""
    broadcaster = _broadcaster(request.app)
    try:
        subscription = await broadcaster.subscribe()
    except TimeoutError as error:
        raise DatabaseUnavailable("the event feed has not been read yet") from error
    try:
        # Without a Last-Event-ID the stream starts at the horizon now, not where this
        # worker's reader happens to be: the client loads what it shows after "ready".
        start = resume or (await asyncio.to_thread(read_feed, None, 0)).horizon
        first_page = await asyncio.to_thread(read_feed, start, settings.events_page_size)
        yield OpenStream(subscription, start, first_page)
    finally:
        broadcaster.unsubscribe(subscription)


def _incident_event(position: Position, payload: str) -> ServerSentEvent:
    return ServerSentEvent(event="incident", id=str(position), raw_data=payload)


@router.get(
    "",
    response_class=EventSourceResponse,
    summary="Incident changes as Server-Sent Events (resume with Last-Event-ID)",
)
async def incident_events(
    request: Request,
    stream: Annotated[OpenStream, Depends(_open_stream)],
    settings: SettingsDep,
) -> AsyncIterable[ServerSentEvent]:
    broadcaster = _broadcaster(request.app)
    yield ServerSentEvent(comment="incident events", retry=RETRY_MILLISECONDS)
    last, page = stream.start, stream.first_page
    while True:
        for position, payload in page.items:
            yield _incident_event(position, payload)
            last = position
        if len(page.items) < settings.events_page_size or broadcaster.stopping:
            break
        page = await asyncio.to_thread(read_feed, last, settings.events_page_size)
    yield ServerSentEvent(event="ready", id=str(last), data={"position": str(last)})
    while True:
        try:
            item = await asyncio.wait_for(
                stream.subscription.next(), timeout=settings.events_heartbeat_seconds
            )
        except TimeoutError:
            yield ServerSentEvent(comment="heartbeat")
            continue
        except SubscriberGone:  # too far behind: end; it resumes from its Last-Event-ID
            return
        if item is None:  # shutting down: end the response; the client reconnects
            return
        position, payload = item
        if position > last:
            yield _incident_event(position, payload)
            last = position
