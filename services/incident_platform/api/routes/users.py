import uuid

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlmodel import col

from incident_platform.api.deps import AdminDep, SessionDep, ViewerDep
from incident_platform.api.errors import commit_unique, conflict, not_found
from incident_platform.api.openapi import CONFLICT
from incident_platform.user import store
from incident_platform.user.models import ContactMethod, UserCreate, UserPublic, UsersPublic
from incident_platform.user.tables import User

router = APIRouter(prefix="/api/v1/users", tags=["users"])


def to_public(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        name=user.name,
        email=user.email,
        timezone=user.timezone,
        contact_methods=[ContactMethod.from_contact(c) for c in store.contacts_of(user)],
        created_at=user.created_at,
    )


def _load(session: SessionDep, user_id: uuid.UUID) -> User:
    user = store.get_user(session, user_id)
    if user is None:
        raise not_found(f"user {user_id} not found")
    return user


def _save(session: SessionDep, user: User) -> None:
    commit_unique(session, user, "email", f"a user with e-mail {user.email} already exists")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def create_user(body: UserCreate, session: SessionDep, _: AdminDep) -> UserPublic:
    contacts = [method.contact() for method in body.contact_methods]
    user = store.new_user(body.name, body.email, body.timezone, contacts)
    session.add(user)
    _save(session, user)
    return to_public(user)


@router.get("", response_model=UsersPublic)
def list_users(session: SessionDep, _: ViewerDep) -> UsersPublic:
    rows = session.execute(select(User).order_by(col(User.name))).scalars()
    data = [to_public(row) for row in rows]
    return UsersPublic(data=data, count=len(data))


@router.get("/{user_id}", response_model=UserPublic)
def get_user(user_id: uuid.UUID, session: SessionDep, _: ViewerDep) -> UserPublic:
    return to_public(_load(session, user_id))


@router.put("/{user_id}", response_model=UserPublic)
def update_user(
    user_id: uuid.UUID, body: UserCreate, session: SessionDep, _: AdminDep
) -> UserPublic:
    user = _load(session, user_id)
    contacts = [method.contact() for method in body.contact_methods]
    store.replace_user(user, body.name, body.email, body.timezone, contacts)
    _save(session, user)
    return to_public(user)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT)
def delete_user(user_id: uuid.UUID, session: SessionDep, _: AdminDep) -> None:
    try:
        store.delete_user(session, _load(session, user_id))
    except store.StillOnCall as error:
        raise conflict(
            str(error), schedules=error.schedules, escalation_policies=error.policies
        ) from error
