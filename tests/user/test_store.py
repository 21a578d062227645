"""Users in PostgreSQL: deleting is refused while a schedule layer or a policy step still
pages them; contact methods keep the stored format the API has always written."""

import uuid

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from incident_platform.notification.rules import Channel
from incident_platform.user import store
from incident_platform.user.codec import Contact
from incident_platform.user.tables import User
from support.oncall import create_policy, create_schedule, create_user, daily_schedule


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


# What the users route stored before contact methods had a codec (each API model dumped
# as JSON): rows written then must read the same, and new writes must look the same.
OLD_FORMAT = (
    '[{"type": "email", "address": "dana@example.com"},'
    ' {"type": "slack", "address": "https://hooks.slack.com/services/T0/B0/x"},'
    ' {"type": "webhook", "address": "https://hooks.example.com/dana"}]'
)
CONTACTS = [
    Contact(Channel.EMAIL, "dana@example.com"),
    Contact(Channel.SLACK, "https://hooks.slack.com/services/T0/B0/x"),
    Contact(Channel.WEBHOOK, "https://hooks.example.com/dana"),
]


def test_a_row_in_the_old_format_reads_back_and_new_writes_match_it(
    engine: Engine, oncall_api: httpx.Client
) -> None:
    dana = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, name, email, timezone, contact_methods)"
                " VALUES (:id, 'dana', 'dana@example.com', 'UTC', CAST(:methods AS jsonb))"
            ),
            {"id": dana, "methods": OLD_FORMAT},
        )
    with Session(engine) as session:
        row = store.get_user(session, dana)
        assert row is not None
        assert store.contacts_of(row) == CONTACTS
    answer = oncall_api.get(f"/api/v1/users/{dana}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["contact_methods"] == [
        {"type": "email", "address": "dana@example.com"},
        {"type": "slack", "address": "https://hooks.slack.com/services/T0/B0/x"},
        {"type": "webhook", "address": "https://hooks.example.com/dana"},
    ]

    # New writes, a create and a replace, store that same document.
    methods = [{"type": c.channel.value, "address": c.address} for c in CONTACTS]
    erin = _uuid(create_user(oncall_api, "erin", methods))
    body = {"name": "dana", "email": "dana@example.com", "contact_methods": methods}
    replaced = oncall_api.put(f"/api/v1/users/{dana}", json=body)
    assert replaced.status_code == 200, replaced.text
    for user_id in (erin, dana):
        with engine.connect() as connection:
            same = connection.execute(
                text("SELECT contact_methods = CAST(:old AS jsonb) FROM users WHERE id = :id"),
                {"old": OLD_FORMAT, "id": user_id},
            ).scalar_one()
        assert same is True


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)
