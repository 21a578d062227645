"""Users in PostgreSQL; their contact methods are stored through :mod:`.codec`."""

import uuid
from collections.abc import Iterable

from sqlmodel import Session

from incident_platform.escalation.store import policies_targeting
from incident_platform.schedule.store import schedules_with_user
from incident_platform.user.codec import Contact, contacts_from_json, contacts_to_json
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


def new_user(name: str, email: str, timezone: str, contacts: Iterable[Contact]) -> User:
    """A row for the user, not yet added (the caller commits, answering e-mail clashes)."""
    return User(
        name=name, email=email, timezone=timezone, contact_methods=contacts_to_json(contacts)
    )


def replace_user(
    user: User, name: str, email: str, timezone: str, contacts: Iterable[Contact]
) -> None:
    user.name, user.email, user.timezone = name, email, timezone
    user.contact_methods = contacts_to_json(contacts)


def contacts_of(user: User) -> list[Contact]:
    return contacts_from_json(user.contact_methods)
