"""Grouping rules: which alerts share an incident beyond one per service (admin to write)."""

import uuid
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel

from incident_platform.api.deps import AdminDep, SessionDep, ViewerDep
from incident_platform.api.errors import conflict, not_found
from incident_platform.api.openapi import CONFLICT
from incident_platform.grouping.models import GroupingRuleCreate, GroupingRulePublic
from incident_platform.grouping.store import (
    GroupingRuleNameTaken,
    GroupingRuleNotFound,
    create_rule,
    delete_rule,
    get_rule,
    list_rules,
    replace_rule,
)
from incident_platform.grouping.tables import GroupingRule
from incident_platform.silence.codec import stored_matchers

router = APIRouter(prefix="/api/v1/grouping-rules", tags=["grouping rules"])


class GroupingRulesPublic(BaseModel):
    data: list[GroupingRulePublic]
    count: int


def to_public(row: GroupingRule) -> GroupingRulePublic:
    return GroupingRulePublic.model_validate(row, from_attributes=True)


def _fields(body: GroupingRuleCreate) -> dict[str, Any]:
    return {
        "name": body.name,
        "matchers": stored_matchers([matcher.rule() for matcher in body.matchers]),
        "group_by": list(body.group_by),
        "window_minutes": body.window_minutes,
        "priority": body.priority,
    }


def _name_taken(error: GroupingRuleNameTaken) -> Exception:
    return conflict(str(error), name=error.name)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=GroupingRulePublic, responses=CONFLICT
)
def create_grouping_rule(
    body: GroupingRuleCreate, session: SessionDep, _: AdminDep
) -> GroupingRulePublic:
    try:
        return to_public(create_rule(session, _fields(body)))
    except GroupingRuleNameTaken as error:
        raise _name_taken(error) from error


@router.get("", response_model=GroupingRulesPublic)
def list_grouping_rules(session: SessionDep, _: ViewerDep) -> GroupingRulesPublic:
    """In the order alerts are matched against them: highest priority first, then by name."""
    data = [to_public(row) for row in list_rules(session)]
    return GroupingRulesPublic(data=data, count=len(data))


@router.get("/{rule_id}", response_model=GroupingRulePublic)
def get_grouping_rule(rule_id: uuid.UUID, session: SessionDep, _: ViewerDep) -> GroupingRulePublic:
    try:
        return to_public(get_rule(session, rule_id))
    except GroupingRuleNotFound as error:
        raise not_found(str(error)) from error


@router.put("/{rule_id}", response_model=GroupingRulePublic, responses=CONFLICT)
def replace_grouping_rule(
    rule_id: uuid.UUID, body: GroupingRuleCreate, session: SessionDep, _: AdminDep
) -> GroupingRulePublic:
    """Replace the rule. Open incidents keep their key: renaming a rule starts new groups."""
    try:
        return to_public(replace_rule(session, rule_id, _fields(body)))
    except GroupingRuleNotFound as error:
        raise not_found(str(error)) from error
    except GroupingRuleNameTaken as error:
        raise _name_taken(error) from error


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_grouping_rule(rule_id: uuid.UUID, session: SessionDep, _: AdminDep) -> None:
    """Its open incidents stay open; new alerts of theirs go by the remaining rules."""
    try:
        delete_rule(session, rule_id)
    except GroupingRuleNotFound as error:
        raise not_found(str(error)) from error
