"""Loading schedules and overrides from PostgreSQL into the pure rules' values."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select, text
from sqlmodel import Session, col

from incident_platform.schedule.domain import Override, Schedule
from incident_platform.schedule.models import ScheduleModel
from incident_platform.schedule.rules import OVERRIDE_REACH
from incident_platform.schedule.tables import OverrideRow, ScheduleRow
from incident_platform.user.tables import User


class ScheduleNotFound(Exception):
    def __init__(self, schedule_id: uuid.UUID | str) -> None:
        super().__init__(f"schedule {schedule_id} not found")


def to_model(row: ScheduleRow) -> ScheduleModel:
    return ScheduleModel.model_validate(
        {"name": row.name, "timezone": row.timezone, "layers": row.layers}
    )


def to_domain(row: ScheduleRow) -> Schedule:
    return to_model(row).to_domain()


def get_schedule(session: Session, schedule_id: uuid.UUID) -> ScheduleRow:
    row = session.get(ScheduleRow, schedule_id)
    if row is None:
        raise ScheduleNotFound(schedule_id)
    return row


def overrides_between(
    session: Session, schedule_id: uuid.UUID, start: datetime, end: datetime
) -> list[Override]:
    rows = session.execute(
        select(OverrideRow).where(
            col(OverrideRow.schedule_id) == schedule_id,
            col(OverrideRow.end_at) > start,
            col(OverrideRow.start_at) < end,
        )
    ).scalars()
    return [
        Override(user=str(row.user_id), start=row.start_at, end=row.end_at, sequence=row.id or 0)
        for row in rows
    ]


def overrides_around(session: Session, schedule_id: uuid.UUID, at: datetime) -> list[Override]:
    """The overrides that can matter to who is on call at ``at`` (see ``OVERRIDE_REACH``)."""
    return overrides_between(session, schedule_id, at - OVERRIDE_REACH, at + OVERRIDE_REACH)


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


def unknown_layer_users(session: Session, model: ScheduleModel) -> list[tuple[str, str]]:
    """``(field path, user id)`` for every layer user that does not exist."""
    missing = missing_users(session, (u for layer in model.layers for u in layer.users))
    return [
        (f"layers.{index}.users.{position}", user_id)
        for index, layer in enumerate(model.layers)
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
