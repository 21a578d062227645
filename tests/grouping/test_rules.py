"""The grouping rule: which group an alert's labels fall into, and time windows."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from incident_platform.grouping.rules import (
    Group,
    GroupingRule,
    by_priority,
    group_by_problem,
    group_of,
    rule_group_key,
    window_closed,
)
from incident_platform.silence.rules import Matcher

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def rule(name: str, *matchers: Matcher, group_by: tuple[str, ...] = (), **kw: int) -> GroupingRule:
    return GroupingRule(name, matchers, group_by, **kw)


def test_an_alert_of_no_rule_keeps_its_service_group() -> None:
    rules = [rule("db", Matcher("team", "db"), group_by=("cluster",))]
    assert group_of({"team": "web"}, "api", rules) == Group("service:api")


def test_the_group_key_is_the_rule_and_its_labels_values_a_missing_one_empty() -> None:
    by_cluster = rule("db", Matcher("team", "db"), group_by=("cluster", "region"))
    group = group_of({"team": "db", "cluster": "eu-1"}, "api", [by_cluster])
    assert group == Group('rule:db/cluster="eu-1",region=""', "db")


def test_highest_priority_first_then_by_name() -> None:
    low = rule("a-low", Matcher("team", "db"), priority=1)
    high = rule("z-high", Matcher("team", "db"), priority=5)
    tie = rule("b-tie", Matcher("team", "db"), priority=5)
    ordered = by_priority([low, high, tie])
    assert [r.name for r in ordered] == ["b-tie", "z-high", "a-low"]
    assert group_of({"team": "db"}, "api", ordered).rule == "b-tie"


def test_a_regex_matcher_is_anchored_and_negation_works() -> None:
    regex = rule("r", Matcher("service", "pay.*", is_regex=True))
    assert group_of({"service": "payments"}, "payments", [regex]).rule == "r"
    assert group_of({"service": "repay"}, "repay", [regex]).rule is None
    negated = rule("n", Matcher("env", "prod", is_equal=False))
    assert group_of({"env": "prod"}, "api", [negated]).rule is None
    assert group_of({}, "api", [negated]).rule == "n"


@given(
    st.dictionaries(st.sampled_from(["a", "b"]), st.text(max_size=5), max_size=2),
    st.dictionaries(st.sampled_from(["a", "b"]), st.text(max_size=5), max_size=2),
)
def test_different_label_values_never_share_a_key(
    first: dict[str, str], second: dict[str, str]
) -> None:
    grouping = rule("g", group_by=("a", "b"))
    same = all(first.get(name, "") == second.get(name, "") for name in ("a", "b"))
    assert (rule_group_key(grouping, first) == rule_group_key(grouping, second)) is same


def test_a_window_closes_once_the_newest_alert_is_older_than_it() -> None:
    windowed = Group("rule:w/", "w", window_minutes=10)
    assert not window_closed(windowed, NOW - timedelta(minutes=10), NOW)
    assert window_closed(windowed, NOW - timedelta(minutes=10, seconds=1), NOW)
    assert not window_closed(Group("service:api"), NOW - timedelta(days=9), NOW)


def test_group_by_must_name_distinct_labels_and_may_be_empty() -> None:
    assert group_by_problem([]) is None
    assert group_by_problem(["cluster", "region"]) is None
    assert group_by_problem(["1x"]) is not None
    assert group_by_problem(["a", "a"]) == "a label is listed twice"
