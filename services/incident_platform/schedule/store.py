"""Loading schedules and overrides from PostgreSQL into the pure rules' values."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select, text
from sqlmodel import Session, col

from incident_platform.clock import utc_now
from incident_platform.schedule import rules, tables
from incident_platform.schedule.codec import layers_to_json, schedule_from_json
from incident_platform.user.tables import User


class ScheduleNotFound(Exception):
    def __init__(self, schedule_id: uuid.UUID | str) -> None:
        super().__init__(f"schedule {schedule_id} not found")


def to_domain(row: tables.Schedule) -> rules.Schedule:
    return schedule_from_json(row.name, row.timezone, row.layers)


def get_schedule(session: Session, schedule_id: uuid.UUID) -> tables.Schedule:
    row = session.get(tables.Schedule, schedule_id)
    if row is None:
        raise ScheduleNotFound(schedule_id)
    return row


def all_schedules(session: Session) -> list[tables.Schedule]:
    return list(
        session.execute(select(tables.Schedule).order_by(col(tables.Schedule.name))).scalars()
    )


def new_schedule(schedule: rules.Schedule) -> tables.Schedule:
    """A row for ``schedule``, not yet added (the caller commits, answering name clashes)."""
    return tables.Schedule(
        name=schedule.name, timezone=schedule.timezone, layers=layers_to_json(schedule)
    )


def replace_schedule(row: tables.Schedule, schedule: rules.Schedule) -> None:
    row.name, row.timezone = schedule.name, schedule.timezone
    row.layers = layers_to_json(schedule)
    row.updated_at = utc_now()


def add_override(
    session: Session, schedule_id: uuid.UUID, override: rules.Override
) -> tables.Override:
    row = tables.Override(
        schedule_id=schedule_id,
        user_id=uuid.UUID(override.user),
        start_at=override.start,
        end_at=override.end,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def schedule_overrides(session: Session, schedule_id: uuid.UUID) -> list[tables.Override]:
    return list(
        session.execute(
            select(tables.Override)
            .where(col(tables.Override.schedule_id) == schedule_id)
            .order_by(col(tables.Override.start_at))
        ).scalars()
    )


def delete_override(session: Session, schedule_id: uuid.UUID, override_id: int) -> bool:
    """Deletes the override if it belongs to the schedule; False if there is none such."""
    row = session.get(tables.Override, override_id)
    if row is None or row.schedule_id != schedule_id:
        return False
    session.delete(row)
    session.commit()
    return True


def overrides_between(
    session: Session, schedule_id: uuid.UUID, start: datetime, end: datetime
) -> list[rules.Override]:
    rows = session.execute(
        select(tables.Override).where(
            col(tables.Override.schedule_id) == schedule_id,
            col(tables.Override.end_at) > start,
            col(tables.Override.start_at) < end,
        )
    ).scalars()
    return [
        rules.Override(
            user=str(row.user_id), start=row.start_at, end=row.end_at, sequence=row.id or 0
        )
        for row in rows
    ]


def overrides_around(
    session: Session, schedule_id: uuid.UUID, at: datetime
) -> list[rules.Override]:
    """The overrides that can matter to who is on call at ``at`` (see ``rules.OVERRIDE_REACH``)."""
    return overrides_between(
        session, schedule_id, at - rules.OVERRIDE_REACH, at + rules.OVERRIDE_REACH
    )


def schedules_with_user(session: Session, user_id: uuid.UUID) -> list[str]:
    """Names of the schedules with ``user_id`` in a layer, sorted."""
    rows = session.execute(
        text(
            "SELECT name FROM schedules WHERE EXISTS ("
            " SELECT 1 FROM jsonb_array_elements(layers) AS layer"
            " WHERE layer->'users' ? :user_id) ORDER BY name"
        ),
        {"user_id": str(user_id)},
    ).scalars()
    return list(rows)


def missing_users(session: Session, user_ids: Iterable[str]) -> set[str]:
    wanted: set[str] = set(user_ids)
    valid: set[uuid.UUID] = set()
    for user_id in wanted:
        try:
            valid.add(uuid.UUID(user_id))
        except ValueError:
            continue
    found = {
        str(found_id)
        for found_id in session.execute(
            select(col(User.id)).where(col(User.id).in_(valid))
        ).scalars()
    }
    return {user_id for user_id in wanted if user_id not in found}


def unknown_layer_users(session: Session, schedule: rules.Schedule) -> list[tuple[str, str]]:
    """``(field path, user id)`` for every layer user that does not exist."""
    missing = missing_users(session, (u for layer in schedule.layers for u in layer.users))
    return [
        (f"layers.{index}.users.{position}", user_id)
        for index, layer in enumerate(schedule.layers)
        for position, user_id in enumerate(layer.users)
        if user_id in missing
    ]


def user_names(session: Session, user_ids: Sequence[str]) -> dict[str, str]:
    ids = [uuid.UUID(user_id) for user_id in set(user_ids) if _is_uuid(user_id)]
    rows = session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(ids)))
    return {str(user_id): name for user_id, name in rows}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
