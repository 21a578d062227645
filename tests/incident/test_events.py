"""The event broadcaster reads no change while nobody subscribes, and loses none for a
subscriber that comes later."""

import asyncio

from sqlmodel import Session

from incident_platform.db import libpq_url, make_engine
from incident_platform.incident.events import ChangeBroadcaster, FeedBatch
from incident_platform.incident.feed import Position, changes_after, horizon
from incident_platform.settings import Settings
from support.database import connect
from support.platform import Platform


def _open_incident(database_url: str, service: str) -> None:
    with connect(database_url) as connection:
        connection.execute(
            "INSERT INTO incidents (title, service, severity, status, alert_count)"
            " VALUES (%s, %s, 'warning', 'triggered', 0)",
            (service, service),
        )


def test_the_reader_reads_no_change_unsubscribed_and_a_later_subscriber_gets_the_next(
    platform: Platform,
) -> None:
    engine = make_engine(Settings(database_url=platform.database_url))
    reads: list[Position | None] = []

    def read(after: Position | None, limit: int) -> FeedBatch[str]:
        reads.append(after)
        with Session(engine) as session:
            bound = horizon(session)
            if after is None:
                return FeedBatch([], bound, held_back=False)
            rows = changes_after(session, after, limit=limit, below=bound)
            items = [(Position(row.change_seq, row.id), str(row.title)) for row in rows]
            return FeedBatch(items, bound, held_back=False)

    async def scenario() -> tuple[str, list[Position | None]]:
        broadcaster: ChangeBroadcaster[str] = ChangeBroadcaster(
            conninfo=libpq_url(platform.database_url),
            read=read,
            poll_seconds=0.05,
            page_size=100,
            queue_size=1000,
        )
        broadcaster.start()
        try:
            for n in range(20):
                await asyncio.to_thread(_open_incident, platform.database_url, f"unread-{n}")
            await asyncio.sleep(0.5)
            unsubscribed = list(reads)
            subscription = await broadcaster.subscribe()
            await asyncio.to_thread(_open_incident, platform.database_url, "after-subscribing")
            item = await asyncio.wait_for(subscription.next(), timeout=30)
            assert item is not None
            return item[1], unsubscribed
        finally:
            await broadcaster.stop()

    try:
        first, unsubscribed = asyncio.run(scenario())
    finally:
        engine.dispose()
    assert len(unsubscribed) > 1
    assert all(after is None for after in unsubscribed), unsubscribed
    assert first == "after-subscribing"
