"""OnCallSchedule builders: every body built is validated against the on-call service's own
request model, so the operator speaks the service's language."""

from __future__ import annotations

import pytest

from incident_operator.builders.oncall import (
    UnresolvedReferences,
)
from incident_operator.builders.oncallschedule import schedule_request
from incident_platform.schedule.models import ScheduleModel
from support.operator import (
    EXAMPLE_USERS,
    example,
    fake_users,
    placed,
    schedule_object,
    user_id,
)


def test_the_example_schedule_becomes_the_services_schedule_json() -> None:
    users = fake_users(*EXAMPLE_USERS)
    built = schedule_request(placed(example("oncallschedule.yaml"), "payments"), users)
    model = ScheduleModel.model_validate(built)  # the on-call service's own request model
    assert model.name == "payments-primary"
    assert model.timezone == "Europe/Berlin"
    assert [layer.name for layer in model.layers] == ["weekly", "weekend-cover", "follow-the-sun"]
    assert built["layers"][0]["users"] == [
        user_id(users, "alice"),
        user_id(users, "bob"),
        user_id(users, "carol"),  # referenced by name
    ]
    assert built["layers"][0]["rotation"] == {
        "type": "weekly",
        "handoff_time": "09:00",
        "handoff_day": "monday",
    }
    assert built["layers"][1]["restrictions"] == [
        {"days": ["sat", "sun"], "start": "08:00", "end": "20:00"}
    ]
    assert built["layers"][2]["rotation"] == {"type": "custom", "shift_hours": 12}
    assert built["layers"][2]["start"] == "2026-11-02T00:00:00Z"


def test_a_schedule_gets_defaults_and_only_its_rotation_types_keys() -> None:
    users = fake_users("alice")
    obj = schedule_object("s", ["alice"])
    del obj["spec"]["timezone"]  # the CRD defaults it; an emulator does not
    obj["spec"]["layers"][0]["rotation"] = {
        "type": "daily",
        "handoff_time": "07:30",
        "handoff_day": "friday",  # the CRD's oneOf lets it through, the service would not
        "shift_hours": 8,
    }
    built = schedule_request(obj, users)
    ScheduleModel.model_validate(built)
    assert built == {
        "name": "team-a/s",
        "timezone": "UTC",
        "layers": [
            {
                "name": "primary",
                "users": [user_id(users, "alice")],
                "start": "2026-01-05T09:00:00+01:00",
                "rotation": {"type": "daily", "handoff_time": "07:30"},
                "restrictions": [],
            }
        ],
    }


def test_unresolved_users_are_named_by_field() -> None:
    obj = placed(example("oncallschedule.yaml"), "payments")
    obj["spec"]["layers"][0]["users"][1] = "dave@example.com"
    obj["spec"]["layers"][2]["users"][0] = "nobody"
    with pytest.raises(UnresolvedReferences) as raised:
        schedule_request(obj, fake_users(*EXAMPLE_USERS))
    assert raised.value.problems == [
        'spec.layers[0].users[1]: no user "dave@example.com"',
        'spec.layers[2].users[0]: no user "nobody"',
    ]
    assert (raised.value.users, raised.value.schedules) == (2, 0)
