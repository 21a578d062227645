"""The matching rule of silences, as Alertmanager defines it, on plain data."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_platform.alert.correlation import (
    AlertSignal,
    AlertStatus,
    CorrelationState,
    IngestAction,
    plan_round,
)
from incident_platform.severity import Severity
from incident_platform.silence.rules import (
    Matcher,
    SilenceRule,
    SilenceState,
    alert_labels,
    matcher_matches,
    matches_all,
    matches_everything,
    muting_silence,
    parse_filter,
    regex_problem,
    silence_matches_filter,
    state_of,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def silence(
    *matchers: Matcher, starts: datetime = NOW - HOUR, ends: datetime = NOW + HOUR
) -> SilenceRule:
    return SilenceRule(uuid.uuid4(), tuple(matchers), starts, ends)


def test_equal_matcher_compares_whole_values() -> None:
    assert matcher_matches(Matcher("service", "api"), "api")
    assert not matcher_matches(Matcher("service", "api"), "api-2")


def test_regex_is_anchored_at_both_ends() -> None:
    regex = Matcher("service", "api|web", is_regex=True)
    assert matcher_matches(regex, "api")
    assert matcher_matches(regex, "web")
    assert not matcher_matches(regex, "api-gateway")
    assert not matcher_matches(regex, "my-web")


def test_is_equal_false_negates_plain_and_regex() -> None:
    assert not matcher_matches(Matcher("service", "api", is_equal=False), "api")
    assert matcher_matches(Matcher("service", "api", is_equal=False), "web")
    assert not matcher_matches(Matcher("env", "prod.*", is_regex=True, is_equal=False), "prod-eu")
    assert matcher_matches(Matcher("env", "prod.*", is_regex=True, is_equal=False), "staging")


def test_missing_label_counts_as_empty() -> None:
    labels = {"service": "api"}
    assert matches_all([Matcher("cluster", "")], labels)
    assert not matches_all([Matcher("cluster", "eu")], labels)
    assert matches_all([Matcher("cluster", "eu", is_equal=False)], labels)


def test_all_matchers_must_match() -> None:
    labels = {"service": "api", "severity": "high"}
    assert matches_all([Matcher("service", "api"), Matcher("severity", "high")], labels)
    assert not matches_all([Matcher("service", "api"), Matcher("severity", "critical")], labels)


def test_normalised_service_and_severity_override_sender_labels() -> None:
    labels = alert_labels(
        {"service": "raw", "alertname": "Down", "n": 3}, service="api", severity="critical"
    )
    assert labels == {"service": "api", "severity": "critical", "alertname": "Down", "n": "3"}


def test_state_follows_the_window() -> None:
    assert state_of(NOW + HOUR, NOW + 2 * HOUR, NOW) is SilenceState.PENDING
    assert state_of(NOW - HOUR, NOW + HOUR, NOW) is SilenceState.ACTIVE
    assert state_of(NOW - 2 * HOUR, NOW, NOW) is SilenceState.EXPIRED


def test_only_an_active_silence_mutes() -> None:
    labels = {"service": "api", "severity": "high"}
    pending = silence(Matcher("service", "api"), starts=NOW + HOUR, ends=NOW + 2 * HOUR)
    expired = silence(Matcher("service", "api"), starts=NOW - 2 * HOUR, ends=NOW - HOUR)
    other = silence(Matcher("service", "web"))
    active = silence(Matcher("service", "api"))
    assert muting_silence(labels, [pending, expired, other], NOW) is None
    assert muting_silence(labels, [pending, expired, other, active], NOW) == active.id


def test_invalid_regex_is_reported() -> None:
    assert regex_problem("(") is not None
    assert regex_problem("a|b") is None
    # RE2, as Alertmanager: no lookaround, no backreferences.
    assert regex_problem("(?=a)") is not None
    assert regex_problem("(a)\\1") is not None


def test_a_pathological_pattern_cannot_backtrack() -> None:
    # Python's re takes exponential time on this; RE2 answers at once.
    assert not matcher_matches(Matcher("x", "(a+)+$", is_regex=True), "a" * 64 + "b")


def test_a_silence_of_only_empty_matching_matchers_would_mute_everything() -> None:
    assert matches_everything([Matcher("x", ""), Matcher("y", ".*", is_regex=True)])
    assert not matches_everything([Matcher("x", ""), Matcher("service", "api")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('service="api"', Matcher("service", "api")),
        ("service=api", Matcher("service", "api")),
        ('env!="prod"', Matcher("env", "prod", is_equal=False)),
        ('severity=~"high|critical"', Matcher("severity", "high|critical", is_regex=True)),
        ('a!~"b.*"', Matcher("a", "b.*", is_regex=True, is_equal=False)),
        ('a="say \\"hi\\""', Matcher("a", 'say "hi"')),
    ],
)
def test_filter_parsing(text: str, expected: Matcher) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "not a matcher"), ("service", "not a matcher"), ('a=~"("', "invalid regular")],
)
def test_bad_filter_is_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_filter(text)


def test_filters_apply_to_the_silence_matchers() -> None:
    api = silence(Matcher("service", "api"), Matcher("env", "prod"))
    assert silence_matches_filter(api, [parse_filter('service="api"')])
    assert not silence_matches_filter(api, [parse_filter('service="web"')])
    assert silence_matches_filter(api, [])


@given(value=st.text(max_size=20), pattern=st.from_regex(r"[a-z]{1,5}", fullmatch=True))
def test_regex_matcher_agrees_with_a_full_match(value: str, pattern: str) -> None:
    assert matcher_matches(Matcher("l", pattern, is_regex=True), value) is (
        re.fullmatch(pattern, value) is not None
    )
    assert matcher_matches(Matcher("l", pattern, is_regex=True, is_equal=False), value) is (
        re.fullmatch(pattern, value) is None
    )


def signal(fingerprint: str, service: str = "api", **labels: str) -> AlertSignal:
    return AlertSignal(fingerprint, service, f"{fingerprint} down", Severity.HIGH, labels=labels)


def test_correlation_silences_a_new_firing_alert_and_opens_nothing() -> None:
    muting = silence(Matcher("service", "api"))
    plan = plan_round(
        [signal("a"), signal("b", "web")], CorrelationState(silences=[muting], now=NOW)
    )
    assert plan.actions == [IngestAction.SILENCED, IngestAction.CREATED]
    assert plan.muted_by == {"a": muting.id}
    assert set(plan.new_incidents) == {"service:web"}


def test_correlation_matches_on_normalised_severity_and_sender_labels() -> None:
    muting = silence(Matcher("severity", "high"), Matcher("alertname", "Disk.*", is_regex=True))
    state = CorrelationState(silences=[muting], now=NOW)
    plan = plan_round([signal("a", alertname="DiskFull"), signal("b", alertname="CPU")], state)
    assert plan.actions == [IngestAction.SILENCED, IngestAction.CREATED]


def test_resolution_and_duplicates_are_not_silenced() -> None:
    from incident_platform.alert.correlation import FiringAlert

    muting = silence(Matcher("service", "api"))
    resolved = AlertSignal("a", "api", "a down", status=AlertStatus.RESOLVED)
    state = CorrelationState(
        firing={"a": FiringAlert(1, None), "b": FiringAlert(2, 7)}, silences=[muting], now=NOW
    )
    plan = plan_round([resolved, signal("b")], state)
    assert plan.actions == [IngestAction.RESOLVED, IngestAction.DEDUPLICATED]
