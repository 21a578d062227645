"""Deleting users: refused while a schedule layer or a policy step still pages them."""

import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from incident_platform.db import make_engine
from incident_platform.settings import Settings
from incident_platform.user import store
from incident_platform.user.tables import User
from support.oncall import create_policy, create_schedule, create_user, daily_schedule
from support.platform import Platform


@pytest.fixture
def engine(platform: Platform) -> Iterator[Engine]:
    engine = make_engine(Settings(database_url=platform.database_url))
    yield engine
    engine.dispose()


def test_user_on_a_schedule_and_a_policy_is_kept_with_both_named(
    engine: Engine, oncall_api: httpx.Client
) -> None:
    alice = create_user(oncall_api, "alice")
    bob = create_user(oncall_api, "bob")
    create_schedule(oncall_api, daily_schedule("primary", [alice, bob]))
    create_policy(
        oncall_api, "checkout", [{"delay_minutes": 0, "targets": [{"type": "user", "id": alice}]}]
    )

    with Session(engine) as session:
        user = store.get_user(session, _uuid(alice))
        assert user is not None
        with pytest.raises(store.StillOnCall) as refused:
            store.delete_user(session, user)
    assert refused.value.schedules == ["primary"]
    assert refused.value.policies == ["checkout"]
    assert str(refused.value) == (
        "user alice is still on call: remove them from schedule primary, policy checkout"
    )
    with Session(engine) as session:
        assert session.get(User, _uuid(alice)) is not None
        bob_row = store.get_user(session, _uuid(bob))
        assert bob_row is not None
        with pytest.raises(store.StillOnCall) as only_schedule:
            store.delete_user(session, bob_row)
    assert (only_schedule.value.schedules, only_schedule.value.policies) == (["primary"], [])


def test_user_nobody_pages_is_deleted(engine: Engine, oncall_api: httpx.Client) -> None:
    carol = create_user(oncall_api, "carol")
    with Session(engine) as session:
        user = store.get_user(session, _uuid(carol))
        assert user is not None
        store.delete_user(session, user)
    with Session(engine) as session:
        assert store.get_user(session, _uuid(carol)) is None


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)
