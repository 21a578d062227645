"""Grouping rules in PostgreSQL: create, replace, delete, the name constraint between
writers, and the rules correlation reads back (in the order it tries them)."""

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from sqlalchemy import Engine
from sqlmodel import Session

from incident_platform.db import libpq_url
from incident_platform.grouping import rules
from incident_platform.grouping.store import (
    READ_RULES,
    GroupingRuleNameTaken,
    GroupingRuleNotFound,
    create_rule,
    delete_rule,
    get_rule,
    list_rules,
    replace_rule,
    rules_of,
)
from incident_platform.silence.rules import Matcher
from support.platform import Platform


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def fields(name: str, priority: int = 0, **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "matchers": [{"name": "team", "value": "db", "isRegex": False, "isEqual": True}],
        "group_by": ["cluster"],
        "window_minutes": None,
        "priority": priority,
        **overrides,
    }


def test_created_rules_are_listed_highest_priority_first_then_by_name(session: Session) -> None:
    for name, priority in [("b", 1), ("c", 5), ("a", 1), ("z", -2)]:
        create_rule(session, fields(name, priority))

    assert [row.name for row in list_rules(session)] == ["c", "a", "b", "z"]


def test_a_taken_name_is_refused_and_the_session_stays_usable(session: Session) -> None:
    create_rule(session, fields("payments"))

    with pytest.raises(GroupingRuleNameTaken) as refused:
        create_rule(session, fields("payments", priority=9))

    assert refused.value.name == "payments"
    assert [(row.name, row.priority) for row in list_rules(session)] == [("payments", 0)]
    create_rule(session, fields("other"))  # the rollback left the session usable


def test_renaming_onto_a_taken_name_names_the_wanted_name_and_keeps_the_row(
    session: Session,
) -> None:
    create_rule(session, fields("first"))
    second = create_rule(session, fields("second"))

    with pytest.raises(GroupingRuleNameTaken) as refused:
        replace_rule(session, second.id, fields("first"))

    assert refused.value.name == "first"
    assert get_rule(session, second.id).name == "second"


def test_replace_changes_every_field_and_moves_updated_at(session: Session) -> None:
    row = create_rule(session, fields("db", window_minutes=10))
    created, updated = row.created_at, row.updated_at

    replaced = replace_rule(
        session,
        row.id,
        fields(
            "database",
            priority=3,
            matchers=[{"name": "team", "value": "d.*", "isRegex": True, "isEqual": False}],
            group_by=["cluster", "region"],
            window_minutes=None,
        ),
    )

    again = get_rule(session, row.id)
    assert (again.name, again.priority, again.group_by, again.window_minutes) == (
        "database",
        3,
        ["cluster", "region"],
        None,
    )
    assert again.matchers == [{"name": "team", "value": "d.*", "isRegex": True, "isEqual": False}]
    assert replaced.created_at == created
    assert replaced.updated_at > updated


def test_unknown_ids_are_not_found_for_read_replace_and_delete(session: Session) -> None:
    missing = uuid.uuid4()
    with pytest.raises(GroupingRuleNotFound, match=str(missing)):
        get_rule(session, missing)
    with pytest.raises(GroupingRuleNotFound):
        replace_rule(session, missing, fields("x"))
    with pytest.raises(GroupingRuleNotFound):
        delete_rule(session, missing)


def test_delete_removes_only_that_rule(session: Session) -> None:
    keep = create_rule(session, fields("keep"))
    gone = create_rule(session, fields("gone"))

    delete_rule(session, gone.id)

    assert [row.id for row in list_rules(session)] == [keep.id]
    with pytest.raises(GroupingRuleNotFound):
        get_rule(session, gone.id)


def test_correlation_reads_the_stored_rules_as_domain_rules_in_try_order(
    session: Session, platform: Platform
) -> None:
    create_rule(session, fields("low", priority=0, window_minutes=30))
    create_rule(
        session,
        fields(
            "high",
            priority=7,
            matchers=[
                # isEqual left out, as older rows may store it: it means "equal".
                {"name": "service", "value": "pay.*", "isRegex": True},
            ],
            group_by=["region", "cluster"],
        ),
    )
    with psycopg.connect(libpq_url(platform.database_url)) as db:
        stored = db.cursor(row_factory=dict_row).execute(READ_RULES).fetchall()

    assert rules_of(stored) == [
        rules.GroupingRule(
            name="high",
            matchers=(Matcher("service", "pay.*", is_regex=True, is_equal=True),),
            group_by=("region", "cluster"),
            window_minutes=None,
            priority=7,
        ),
        rules.GroupingRule(
            name="low",
            matchers=(Matcher("team", "db", is_regex=False, is_equal=True),),
            group_by=("cluster",),
            window_minutes=30,
            priority=0,
        ),
    ]
