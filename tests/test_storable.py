"""The one validator every model uses: text PostgreSQL can store, instants the rules can use."""

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, ValidationError

from incident_platform.storable import (
    EARLIEST_INSTANT,
    LATEST_INSTANT,
    StorableModel,
    check_instant,
    refuse_unstorable,
)


class Sample(StorableModel):
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a\x00b", "contains a NUL character (U+0000)"),
        ("a\ud800b", "contains a lone surrogate (U+D800)"),
        ("\udfff", "contains a lone surrogate (U+DFFF)"),
        ({"env\x00": "x"}, "key 'env\\x00' contains a NUL character"),
        ({"env": "x\x00"}, "['env'] contains a NUL character"),
        ({"a": {"b": ["ok", "\ud83d"]}}, "['a']['b'][1] contains a lone surrogate (U+D83D)"),
        (["ok", "x\x00"], "[1] contains a NUL character"),
    ],
)
def test_refuses_nul_and_lone_surrogates_saying_where(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        refuse_unstorable(value)


def test_halves_of_a_surrogate_pair_in_separate_strings_are_each_refused() -> None:
    # Flat dicts of strings are checked in one pass over all their text: the halves
    # meeting there must not pass for one character.
    with pytest.raises(ValueError, match=re.escape("['a'] contains a lone surrogate (U+D83D)")):
        refuse_unstorable({"a": "x\ud83d", "b": "\ude00y"})
    with pytest.raises(ValueError, match=r"^key .* contains a lone surrogate \(U\+D83D\)"):
        refuse_unstorable({"k\ud83d": "v"})


@given(st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"])))
def test_every_storable_text_is_accepted_unchanged(text: str) -> None:
    assert refuse_unstorable({text: [text]}) == {text: [text]}
    text.encode("utf-8")  # what the database driver will do with it


def test_models_name_the_field_holding_it() -> None:
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate({"name": "ok", "labels": {"k": "v\x00"}})
    [error] = raised.value.errors()
    assert error["loc"] == ("labels",)
    assert "NUL character" in error["msg"]
    assert Sample.model_validate({"name": "café ☕", "tags": ["𝄞"]}).tags == ["𝄞"]


@pytest.mark.parametrize(
    "instant",
    [
        EARLIEST_INSTANT,
        LATEST_INSTANT,
        datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=14))),
        datetime(2026, 1, 1),  # naive: read as UTC
    ],
)
def test_instants_in_range_are_accepted(instant: datetime) -> None:
    assert check_instant(instant) is instant


@pytest.mark.parametrize(
    "instant",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        EARLIEST_INSTANT - timedelta(microseconds=1),
        LATEST_INSTANT + timedelta(microseconds=1),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12))),
    ],
)
def test_instants_out_of_range_are_refused(instant: datetime) -> None:
    with pytest.raises(ValueError, match="must be between 1970-01-01 and 2200-01-01"):
        check_instant(instant)
