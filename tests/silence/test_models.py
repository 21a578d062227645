"""Alertmanager's PostableSilence as amtool posts it: what is refused, and where."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from incident_platform.silence.models import MatcherModel, PostableSilence
from incident_platform.silence.rules import Matcher

START = datetime(2026, 12, 1, 10, tzinfo=UTC)


def refused(**changes: object) -> list[tuple[tuple[str | int, ...], str]]:
    fields: dict[str, object] = {
        "matchers": [{"name": "service", "value": "checkout", "isRegex": False}],
        "startsAt": START.isoformat(),
        "endsAt": (START + timedelta(hours=2)).isoformat(),
        "createdBy": "alice",
        "comment": "deploy",
        **changes,
    }
    with pytest.raises(ValidationError) as error:
        PostableSilence.model_validate(fields)
    return [(tuple(item["loc"]), item["msg"]) for item in error.value.errors()]


def test_a_matcher_becomes_the_rule_it_stands_for() -> None:
    matcher = MatcherModel.model_validate({"name": "job", "value": "api|web", "isRegex": True})
    assert matcher.rule() == Matcher("job", "api|web", True, True)


def test_a_silence_that_would_mute_every_alert_is_refused() -> None:
    [(location, message)] = refused(matchers=[{"name": "service", "value": ".*", "isRegex": True}])
    assert location == ("matchers",)
    assert "at least one matcher must not match the empty value" in message
    # One matcher that needs a label is enough.
    PostableSilence.model_validate(
        {
            "matchers": [
                {"name": "service", "value": ".*", "isRegex": True},
                {"name": "team", "value": "ops", "isRegex": False},
            ],
            "startsAt": START.isoformat(),
            "endsAt": START.isoformat(),
            "createdBy": "alice",
            "comment": "zero length is allowed",
        }
    )


def test_the_end_may_not_come_before_the_start() -> None:
    [(location, message)] = refused(endsAt=(START - timedelta(seconds=1)).isoformat())
    assert location == ("endsAt",)
    assert "must not be before startsAt" in message


def test_instants_need_an_offset_and_a_regex_must_compile() -> None:
    assert [loc for loc, _ in refused(startsAt="2026-12-01T10:00:00")] == [("startsAt",)]
    [(location, message)] = refused(matchers=[{"name": "job", "value": "[", "isRegex": True}])
    assert location == ("matchers", 0)
    assert "invalid regular expression" in message


def test_counts_and_lengths() -> None:
    assert [loc for loc, _ in refused(matchers=[])] == [("matchers",)]
    many = [{"name": f"l{n}", "value": "x", "isRegex": False} for n in range(65)]
    assert [loc for loc, _ in refused(matchers=many)] == [("matchers",)]
    assert [loc for loc, _ in refused(createdBy="")] == [("createdBy",)]
    assert [loc for loc, _ in refused(comment="c" * 4097)] == [("comment",)]
