"""What a grouping rule may be created with: each refusal names its field."""

import pytest
from pydantic import ValidationError

from incident_platform.grouping.models import MAX_WINDOW_MINUTES, GroupingRuleCreate

SERVICE_API = [{"name": "service", "value": "api", "isRegex": False}]


def refused(**changes: object) -> list[tuple[tuple[str | int, ...], str]]:
    fields: dict[str, object] = {"name": "by-cluster", "matchers": SERVICE_API, **changes}
    with pytest.raises(ValidationError) as error:
        GroupingRuleCreate.model_validate(fields)
    return [(tuple(item["loc"]), item["msg"]) for item in error.value.errors()]


def test_a_rule_needs_only_a_name_and_a_matcher() -> None:
    rule = GroupingRuleCreate.model_validate({"name": "api.v2_x-y", "matchers": SERVICE_API})
    assert (rule.group_by, rule.window_minutes, rule.priority) == ([], None, 0)


@pytest.mark.parametrize("name", ["-leading", ".dot", "has space", 'quote"', "x" * 129, ""])
def test_names_that_cannot_be_part_of_a_group_key_are_refused(name: str) -> None:
    assert [location for location, _ in refused(name=name)] == [("name",)]


def test_group_by_takes_distinct_label_names() -> None:
    [(location, message)] = refused(group_by=["cluster", "cluster"])
    assert location == ("group_by",)
    assert "a label is listed twice" in message
    [(location, message)] = refused(group_by=["1cluster"])
    assert "'1cluster' is not a label name" in message
    assert [location for location, _ in refused(group_by=[f"l{n}" for n in range(33)])] == [
        ("group_by",)
    ]


def test_window_and_priority_bounds() -> None:
    assert [loc for loc, _ in refused(window_minutes=0)] == [("window_minutes",)]
    assert [loc for loc, _ in refused(window_minutes=MAX_WINDOW_MINUTES + 1)] == [
        ("window_minutes",)
    ]
    assert [loc for loc, _ in refused(priority=1_000_001)] == [("priority",)]
    GroupingRuleCreate.model_validate(
        {"name": "w", "matchers": SERVICE_API, "window_minutes": MAX_WINDOW_MINUTES}
    )


def test_a_rule_needs_matchers_and_each_regex_must_compile() -> None:
    assert [loc for loc, _ in refused(matchers=[])] == [("matchers",)]
    [(location, message)] = refused(matchers=[{"name": "job", "value": "(", "isRegex": True}])
    assert location == ("matchers", 0)
    assert "invalid regular expression" in message
