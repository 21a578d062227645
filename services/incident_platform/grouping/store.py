"""Grouping rules in PostgreSQL: the API's create, replace, read and delete, and the
rules correlation runs on."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from incident_platform.clock import utc_now
from incident_platform.grouping import rules
from incident_platform.grouping.tables import GroupingRule
from incident_platform.silence.codec import matcher_rules


class GroupingRuleNotFound(Exception):
    def __init__(self, rule_id: uuid.UUID) -> None:
        super().__init__(f"grouping rule {rule_id} not found")


class GroupingRuleNameTaken(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"a grouping rule named {name!r} exists")
        self.name = name


def _commit(session: Session, row: GroupingRule) -> GroupingRule:
    """Commits; the unique name constraint decides between concurrent writers."""
    name = row.name  # the rollback below reloads the row: a rename would read the old name
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise GroupingRuleNameTaken(name) from error
    session.refresh(row)
    return row


def create_rule(session: Session, fields: dict[str, Any]) -> GroupingRule:
    row = GroupingRule(**fields)
    session.add(row)
    return _commit(session, row)


def get_rule(session: Session, rule_id: uuid.UUID, *, for_update: bool = False) -> GroupingRule:
    query = select(GroupingRule).where(col(GroupingRule.id) == rule_id)
    if for_update:
        query = query.with_for_update()
    row: GroupingRule | None = session.execute(query).scalar_one_or_none()
    if row is None:
        raise GroupingRuleNotFound(rule_id)
    return row


def replace_rule(session: Session, rule_id: uuid.UUID, fields: dict[str, Any]) -> GroupingRule:
    row = get_rule(session, rule_id, for_update=True)
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at = utc_now()
    return _commit(session, row)


def delete_rule(session: Session, rule_id: uuid.UUID) -> None:
    session.delete(get_rule(session, rule_id, for_update=True))
    session.commit()


def list_rules(session: Session) -> Sequence[GroupingRule]:
    """In the order correlation tries them."""
    query = select(GroupingRule).order_by(col(GroupingRule.priority).desc(), col(GroupingRule.name))
    return list(session.execute(query).scalars())


READ_RULES = """
SELECT name, matchers, group_by, window_minutes, priority FROM grouping_rules
"""


def rules_of(stored: Sequence[dict[str, Any]]) -> list[rules.GroupingRule]:
    """Rows of :data:`READ_RULES`, in the order correlation tries them."""
    return rules.by_priority(
        rules.GroupingRule(
            name=row["name"],
            matchers=matcher_rules(row["matchers"]),
            group_by=tuple(row["group_by"]),
            window_minutes=row["window_minutes"],
            priority=row["priority"],
        )
        for row in stored
    )
