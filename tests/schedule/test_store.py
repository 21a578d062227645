"""Schedules and overrides in PostgreSQL: what the routes and the engine read back."""

import uuid
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from incident_platform.schedule import rules, store
from incident_platform.schedule.rotation import DailyRotation
from incident_platform.user.store import new_user

START = datetime(2026, 11, 2, 8, tzinfo=UTC)


def _users(session: Session, count: int) -> list[str]:
    rows = [
        new_user(f"u{n}-{uuid.uuid4().hex[:6]}", f"{uuid.uuid4().hex}@example.com", "UTC", [])
        for n in range(count)
    ]
    session.add_all(rows)
    session.commit()
    return [str(row.id) for row in rows]


def _schedule(name: str, *layers: tuple[str, ...]) -> rules.Schedule:
    return rules.Schedule(
        name=name,
        timezone="Europe/Paris",
        layers=tuple(
            rules.Layer(f"layer {n}", users, START, DailyRotation(time(9)))
            for n, users in enumerate(layers)
        ),
    )


def _stored(session: Session, schedule: rules.Schedule) -> uuid.UUID:
    row = store.new_schedule(schedule)
    session.add(row)
    session.commit()
    return row.id


def test_a_stored_schedule_reads_back_as_the_same_rule_value(engine: Engine) -> None:
    with Session(engine) as session:
        alice, bob = _users(session, 2)
        schedule = _schedule(f"round-trip-{uuid.uuid4().hex[:6]}", (alice, bob), (bob,))
        schedule_id = _stored(session, schedule)
    with Session(engine) as session:
        assert store.to_domain(store.get_schedule(session, schedule_id)) == schedule


def test_schedules_with_a_user_are_those_naming_them_in_any_layer(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    with Session(engine) as session:
        alice, bob, carol = _users(session, 3)
        _stored(session, _schedule(f"b-{tag}", (carol,), (alice,)))
        _stored(session, _schedule(f"a-{tag}", (alice, bob)))
        _stored(session, _schedule(f"c-{tag}", (bob,)))
        assert store.schedules_with_user(session, uuid.UUID(alice)) == [f"a-{tag}", f"b-{tag}"]
        assert store.schedules_with_user(session, uuid.UUID(carol)) == [f"b-{tag}"]
        assert store.schedules_with_user(session, uuid.uuid4()) == []


def test_unknown_layer_users_are_named_by_their_field_path(engine: Engine) -> None:
    ghost = str(uuid.uuid4())
    with Session(engine) as session:
        [alice] = _users(session, 1)
        schedule = _schedule("unsaved", (alice, ghost), ("not-a-uuid",))
        assert store.unknown_layer_users(session, schedule) == [
            ("layers.0.users.1", ghost),
            ("layers.1.users.0", "not-a-uuid"),
        ]
        assert store.user_names(session, [alice, ghost, "not-a-uuid"]).keys() == {alice}


def test_overrides_between_are_those_overlapping_the_window(engine: Engine) -> None:
    hour = timedelta(hours=1)
    with Session(engine) as session:
        [alice] = _users(session, 1)
        schedule_id = _stored(session, _schedule(f"o-{uuid.uuid4().hex[:6]}", (alice,)))
        other_id = _stored(session, _schedule(f"p-{uuid.uuid4().hex[:6]}", (alice,)))
        before = store.add_override(
            session, schedule_id, rules.Override(alice, START - hour, START)
        )
        inside = store.add_override(
            session, schedule_id, rules.Override(alice, START + hour, START + 2 * hour)
        )
        across = store.add_override(
            session, schedule_id, rules.Override(alice, START + 2 * hour, START + 5 * hour)
        )
        store.add_override(session, other_id, rules.Override(alice, START, START + hour))

        found = store.overrides_between(session, schedule_id, START, START + 3 * hour)
        # Ending exactly when the window starts does not overlap it ([start, end)).
        assert sorted(override.sequence for override in found) == [inside.id, across.id]
        assert before.id not in {override.sequence for override in found}

        # An override is deleted only through its own schedule.
        assert not store.delete_override(session, other_id, inside.id)  # type: ignore[arg-type]
        assert store.delete_override(session, schedule_id, inside.id)  # type: ignore[arg-type]
        assert [row.id for row in store.schedule_overrides(session, schedule_id)] == [
            before.id,
            across.id,
        ]
