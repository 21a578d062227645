"""Matchers as stored: the document Alertmanager writes, read back to the same rules."""

from hypothesis import given
from hypothesis import strategies as st

from incident_platform.silence.codec import matcher_rules, stored_matchers
from incident_platform.silence.rules import Matcher


def test_matchers_are_stored_as_alertmanager_writes_them() -> None:
    matchers = (Matcher("service", "checkout"), Matcher("env", "prod|staging", True, False))
    assert stored_matchers(matchers) == [
        {"name": "service", "value": "checkout", "isRegex": False, "isEqual": True},
        {"name": "env", "value": "prod|staging", "isRegex": True, "isEqual": False},
    ]


def test_a_stored_matcher_without_is_equal_is_an_equality_matcher() -> None:
    stored = [{"name": "service", "value": "checkout", "isRegex": False}]
    assert matcher_rules(stored) == (Matcher("service", "checkout", False, True),)


@given(
    st.lists(
        st.builds(Matcher, st.text(min_size=1), st.text(), st.booleans(), st.booleans()),
        max_size=5,
    )
)
def test_stored_matchers_read_back_as_the_same_rules(matchers: list[Matcher]) -> None:
    assert matcher_rules(stored_matchers(matchers)) == tuple(matchers)
