"""Errors in FastAPI's own 422 shape, conflicts and not-found answers, input made sendable,
and the unique-constraint commit on the real database."""

from collections.abc import Iterator

import pytest
from fastapi import HTTPException
from sqlalchemy import Engine
from sqlmodel import Session, select

from incident_platform.api.errors import (
    commit_unique,
    conflict,
    encodable,
    field_error,
    not_found,
    query_error,
)
from incident_platform.grouping.tables import GroupingRule


def detail(error: HTTPException) -> object:
    """What the answer's body says (typed as text by Starlette, any JSON in practice)."""
    return error.detail


def test_field_and_query_errors_are_422s_in_fastapis_validation_shape() -> None:
    body = field_error(("layers", 0, "name"), "name taken")
    query = query_error("since", "too far back")

    assert (body.status_code, detail(body)) == (
        422,
        [{"loc": ["body", "layers", 0, "name"], "msg": "name taken", "type": "value_error"}],
    )
    assert detail(query) == [
        {"loc": ["query", "since"], "msg": "too far back", "type": "value_error"}
    ]


def test_conflicts_carry_their_details_and_not_found_its_message() -> None:
    error = conflict("schedule in use", policies=["p1"])

    assert (error.status_code, detail(error)) == (
        409,
        {"message": "schedule in use", "policies": ["p1"]},
    )
    assert (not_found("no such user").status_code, not_found("x").detail) == (404, "x")


def test_lone_surrogates_are_spelled_out_everywhere_in_the_value() -> None:
    value = {"\ud800key": ["a\udfff", ("b", 1)], "plain": None}

    sendable = encodable(value)

    assert sendable == {"\\ud800key": ["a\\udfff", ["b", 1]], "plain": None}
    assert str(sendable).encode("utf-8")
    assert encodable("Zoë 李") == "Zoë 李"


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def rule(name: str) -> GroupingRule:
    return GroupingRule(name=name, matchers=[], group_by=["cluster"])


def test_a_unique_violation_is_a_422_on_the_field_and_nothing_is_written(
    session: Session,
) -> None:
    first = rule("payments")
    session.add(first)
    commit_unique(session, first, "name", "taken")
    duplicate = rule("payments")
    session.add(duplicate)

    with pytest.raises(HTTPException) as refused:
        commit_unique(session, duplicate, "name", "a rule named payments exists")

    assert refused.value.status_code == 422
    assert detail(refused.value) == [
        {"loc": ["body", "name"], "msg": "a rule named payments exists", "type": "value_error"}
    ]
    names = [r.name for r in session.exec(select(GroupingRule)).all()]
    assert names == ["payments"]
    assert first.id is not None, "the first commit refreshed the row"
