"""Users in PostgreSQL."""

import uuid

from sqlmodel import Session

from incident_platform.escalation.store import policies_targeting
from incident_platform.schedule.store import schedules_with_user
from incident_platform.user.tables import User


class StillOnCall(Exception):
    """Deleting someone a schedule or policy still pages would silently leave a gap."""

    def __init__(self, user: User, schedules: list[str], policies: list[str]) -> None:
        places = [*(f"schedule {s}" for s in schedules), *(f"policy {p}" for p in policies)]
        super().__init__(f"user {user.name} is still on call: remove them from {', '.join(places)}")
        self.schedules = schedules
        self.policies = policies


def delete_user(session: Session, user: User) -> None:
    """Deletes ``user`` and commits, unless a schedule layer or a policy step still
    names them (:class:`StillOnCall`)."""
    schedules = schedules_with_user(session, user.id)
    policies = policies_targeting(session, "user", user.id)
    if schedules or policies:
        raise StillOnCall(user, schedules, policies)
    session.delete(user)
    session.commit()


def get_user(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)
