"""Group commit: the policy as plain functions, and the batcher over real PostgreSQL."""

import asyncio
from collections.abc import Iterator, Sequence

import pytest
from psycopg import errors as pg_errors
from sqlalchemy import Engine

from incident_platform.alert.batching import (
    AlertBatcher,
    BatchKey,
    BatchPolicy,
    Queued,
    engine_writer,
    is_shared_failure,
    linger_seconds,
    next_batch,
    split_outcomes,
)
from incident_platform.alert.correlation import AlertSignal, IngestAction
from incident_platform.alert.ingest import BatchOutcome, IngestOutcome
from incident_platform.db import DatabaseUnavailable, make_engine
from incident_platform.settings import Settings
from support.database import connect
from support.platform import Platform

GENERIC = BatchKey("integration:generic", auto_resolve=True)
OTHER = BatchKey("integration:other", auto_resolve=True)


# --- next_batch ---------------------------------------------------------------------------


def test_an_empty_queue_makes_no_batch() -> None:
    assert next_batch([], 100) == []


def test_requests_of_one_key_are_taken_in_order_up_to_the_limit() -> None:
    queue = [Queued(GENERIC, 40), Queued(GENERIC, 40), Queued(GENERIC, 40)]
    assert next_batch(queue, 100) == [0, 1]


def test_the_oldest_request_goes_even_alone_above_the_limit() -> None:
    queue = [Queued(GENERIC, 250), Queued(GENERIC, 1)]
    assert next_batch(queue, 100) == [0]


def test_requests_of_another_key_wait_for_their_own_batch() -> None:
    queue = [Queued(GENERIC, 1), Queued(OTHER, 1), Queued(GENERIC, 1), Queued(OTHER, 1)]
    assert next_batch(queue, 100) == [0, 2]
    assert next_batch([queue[1], queue[3]], 100) == [0, 1]


def test_a_later_request_does_not_overtake_one_that_did_not_fit() -> None:
    queue = [Queued(GENERIC, 60), Queued(GENERIC, 60), Queued(GENERIC, 1)]
    assert next_batch(queue, 100) == [0]


def test_auto_resolve_is_part_of_the_key() -> None:
    queue = [Queued(GENERIC, 1), Queued(BatchKey(GENERIC.actor, auto_resolve=False), 1)]
    assert next_batch(queue, 100) == [0]


# --- linger_seconds ---------------------------------------------------------------------


POLICY = BatchPolicy(max_alerts=100, max_wait_seconds=0.003)


def test_an_idle_writer_does_not_wait() -> None:
    assert linger_seconds(queued_alerts=1, writer_was_idle=True, policy=POLICY) == 0.0


def test_a_full_queue_does_not_wait() -> None:
    assert linger_seconds(queued_alerts=100, writer_was_idle=False, policy=POLICY) == 0.0


def test_a_busy_writer_waits_at_most_the_bound_for_more() -> None:
    assert linger_seconds(queued_alerts=7, writer_was_idle=False, policy=POLICY) == 0.003


# --- split_outcomes, is_shared_failure --------------------------------------------------


def _outcome(alert_id: int) -> IngestOutcome:
    return IngestOutcome(IngestAction.ATTACHED, alert_id, 1)


def test_outcomes_are_cut_back_into_each_members_share_in_order() -> None:
    outcomes = [_outcome(n) for n in range(6)]
    shares = split_outcomes([1, 3, 2], outcomes)
    assert [[o.alert_id for o in share] for share in shares] == [[0], [1, 2, 3], [4, 5]]


def test_outcomes_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(ValueError, match="5 outcomes"):
        split_outcomes([3, 3], [_outcome(n) for n in range(5)])


def test_an_outage_is_every_members_failure_bad_data_is_not() -> None:
    assert is_shared_failure(DatabaseUnavailable("down"))
    assert not is_shared_failure(pg_errors.StringDataRightTruncation("too long"))
    assert not is_shared_failure(ValueError("bug"))


# --- AlertBatcher over real PostgreSQL --------------------------------------------------


@pytest.fixture
def db(platform: Platform) -> Iterator[Engine]:
    engine = make_engine(Settings(database_url=platform.database_url, db_pool_size=4))
    yield engine
    engine.dispose()


class CountingWriter:
    """The real writer, remembering how many alerts each transaction held."""

    def __init__(self, engine: Engine) -> None:
        self.write = engine_writer(engine)
        self.batches: list[int] = []

    def __call__(
        self, signals: Sequence[AlertSignal], *, actor: str, auto_resolve: bool
    ) -> BatchOutcome:
        self.batches.append(len(signals))
        return self.write(signals, actor=actor, auto_resolve=auto_resolve)


def _signal(n: int, service: str = "batched") -> AlertSignal:
    return AlertSignal(fingerprint=f"fp-{service}-{n}", service=service, summary=f"symptom {n}")


async def _submit_all(batcher: AlertBatcher, bodies: list[list[AlertSignal]]) -> list[object]:
    return await asyncio.gather(
        *(
            batcher.submit(signals, source="generic", actor="integration:t", auto_resolve=True)
            for signals in bodies
        ),
        return_exceptions=True,
    )


def test_concurrent_requests_share_transactions_and_get_their_own_outcomes(
    db: Engine, platform: Platform
) -> None:
    writer = CountingWriter(db)
    batcher = AlertBatcher(writer, BatchPolicy(max_alerts=30, max_wait_seconds=0.002))
    bodies = [[_signal(n)] for n in range(60)] + [[_signal(100 + n) for n in range(5)]]
    answers = asyncio.run(_submit_all(batcher, bodies))

    assert all(isinstance(answer, list) for answer in answers), answers
    # Everything was queued before the first write started: 65 alerts in batches of <= 30
    # (a request is never split), not 61 transactions.
    assert sum(writer.batches) == 65
    assert len(writer.batches) < 61
    assert max(writer.batches) <= 30
    with connect(platform.database_url) as connection:
        rows = connection.execute("SELECT fingerprint, id FROM alerts").fetchall()
        incidents = connection.execute(
            "SELECT count(*), sum(alert_count) FROM incidents"
        ).fetchone()
    stored = {str(fingerprint): alert_id for fingerprint, alert_id in rows}
    assert incidents == (1, 65)
    for signals, answer in zip(bodies, answers, strict=True):
        assert isinstance(answer, list)
        assert [o.alert_id for o in answer] == [stored[s.fingerprint] for s in signals]


def test_a_member_with_bad_data_fails_alone(db: Engine, platform: Platform) -> None:
    writer = CountingWriter(db)
    batcher = AlertBatcher(writer, BatchPolicy(max_alerts=100))
    too_long = AlertSignal(fingerprint="bad", service="s" * 300, summary="longer than the column")
    bodies = [[_signal(n)] for n in range(5)] + [[too_long]] + [[_signal(n + 5)] for n in range(5)]
    answers = asyncio.run(_submit_all(batcher, bodies))

    assert isinstance(answers[5], pg_errors.StringDataRightTruncation)
    good = [answer for position, answer in enumerate(answers) if position != 5]
    assert all(isinstance(answer, list) and len(answer) == 1 for answer in good), answers
    with connect(platform.database_url) as connection:
        fingerprints = {row[0] for row in connection.execute("SELECT fingerprint FROM alerts")}
    assert fingerprints == {f"fp-batched-{n}" for n in range(10)}


def test_an_outage_fails_every_member_as_unavailable() -> None:
    unreachable = make_engine(
        Settings(
            database_url="postgresql://postgres@127.0.0.1:1/none",
            db_connect_timeout_seconds=1,
        )
    )
    batcher = AlertBatcher(engine_writer(unreachable))
    answers = asyncio.run(_submit_all(batcher, [[_signal(n)] for n in range(4)]))
    unreachable.dispose()
    assert len(answers) == 4
    assert all(is_shared_failure(answer) for answer in answers if isinstance(answer, Exception))
    assert all(isinstance(answer, Exception) for answer in answers)
