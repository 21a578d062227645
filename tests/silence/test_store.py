"""Silences in PostgreSQL: saved and changed in place, listed until long after they end,
and expired according to where they stand (pending, active, expired)."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from incident_platform.silence.rules import Matcher, SilenceRule
from incident_platform.silence.store import (
    LISTED_AFTER_EXPIRY,
    SilenceNotFound,
    expire_silence,
    get_silence,
    list_silences,
    rule_of,
    save_silence,
)
from incident_platform.silence.tables import Silence

MATCHERS = (Matcher("service", "checkout"), Matcher("severity", "high|critical", is_regex=True))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def save(session: Session, starts_at: datetime, ends_at: datetime, **kwargs: str) -> Silence:
    return save_silence(
        session,
        None,
        matchers=MATCHERS,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=kwargs.get("created_by", "alice"),
        comment=kwargs.get("comment", "deploying"),
    )


def now() -> datetime:
    return datetime.now(UTC)


def test_a_saved_silence_reads_back_as_the_rule_it_was_made_from(session: Session) -> None:
    start, end = now(), now() + timedelta(hours=2)

    saved = save(session, start, end)

    stored = get_silence(session, saved.id)
    assert rule_of(stored) == SilenceRule(saved.id, MATCHERS, start, end)
    assert stored.matchers == [
        {"name": "service", "value": "checkout", "isRegex": False, "isEqual": True},
        {"name": "severity", "value": "high|critical", "isRegex": True, "isEqual": True},
    ]
    assert (stored.created_by, stored.comment) == ("alice", "deploying")


def test_saving_with_an_id_changes_that_silence_in_place(session: Session) -> None:
    first = save(session, now(), now() + timedelta(hours=1))
    updated_at = first.updated_at
    later = now() + timedelta(hours=5)

    changed = save_silence(
        session,
        first.id,
        matchers=(Matcher("service", "search", is_equal=False),),
        starts_at=first.starts_at,
        ends_at=later,
        created_by="bob",
        comment="longer",
    )

    assert changed.id == first.id
    assert [s.id for s in list_silences(session)] == [first.id]
    again = get_silence(session, first.id)
    assert rule_of(again).matchers == (Matcher("service", "search", is_equal=False),)
    assert (again.ends_at, again.created_by, again.comment) == (later, "bob", "longer")
    assert again.updated_at > updated_at


def test_unknown_ids_are_not_found(session: Session) -> None:
    missing = uuid.uuid4()
    with pytest.raises(SilenceNotFound, match=str(missing)):
        get_silence(session, missing)
    with pytest.raises(SilenceNotFound):
        expire_silence(session, missing)
    with pytest.raises(SilenceNotFound):
        save_silence(
            session,
            missing,
            matchers=MATCHERS,
            starts_at=now(),
            ends_at=now() + timedelta(hours=1),
            created_by="alice",
            comment="",
        )


def test_listed_latest_ending_first_and_dropped_once_long_expired(session: Session) -> None:
    long_ago = now() - LISTED_AFTER_EXPIRY - timedelta(hours=1)
    recently = now() - LISTED_AFTER_EXPIRY + timedelta(hours=1)
    save(session, long_ago - timedelta(hours=1), long_ago, comment="forgotten")
    save(session, recently - timedelta(hours=1), recently, comment="recent")
    save(session, now(), now() + timedelta(hours=1), comment="active")
    save(session, now() + timedelta(hours=1), now() + timedelta(hours=3), comment="pending")

    assert [s.comment for s in list_silences(session)] == ["pending", "active", "recent"]


def test_expiring_an_active_silence_ends_it_now_and_keeps_its_start(session: Session) -> None:
    start = now() - timedelta(minutes=5)
    silence = save(session, start, now() + timedelta(hours=1))
    before = now()

    expired = expire_silence(session, silence.id)

    assert expired.starts_at == start
    assert before <= expired.ends_at <= now()
    assert expired.updated_at >= before


def test_expiring_a_pending_silence_means_it_never_starts(session: Session) -> None:
    silence = save(session, now() + timedelta(hours=1), now() + timedelta(hours=2))
    before = now()

    expired = expire_silence(session, silence.id)

    assert expired.starts_at == expired.ends_at
    assert before <= expired.ends_at <= now()


def test_expiring_an_expired_silence_changes_nothing(session: Session) -> None:
    start, end = now() - timedelta(hours=3), now() - timedelta(hours=1)
    silence = save(session, start, end)
    updated_at = get_silence(session, silence.id).updated_at

    expired = expire_silence(session, silence.id)

    assert (expired.starts_at, expired.ends_at, expired.updated_at) == (start, end, updated_at)
