"""The grouping rules API's shapes."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator

from incident_platform.grouping.rules import RULE_NAME, group_by_problem
from incident_platform.silence.models import MatcherModel
from incident_platform.storable import StorableModel

MAX_WINDOW_MINUTES = 30 * 24 * 60


class GroupingRuleCreate(StorableModel):
    """A grouping rule, as created (POST) or replaced whole (PUT)."""

    name: str = Field(
        min_length=1,
        max_length=128,
        description="Unique; letters, digits, '.', '_' and '-'. It is part of the group key.",
    )
    matchers: list[MatcherModel] = Field(
        min_length=1,
        max_length=64,
        description="Alertmanager matchers on the alert's labels (service and severity are"
        " always present); all must match.",
    )
    group_by: list[Annotated[str, Field(max_length=255)]] = Field(
        default_factory=list,
        max_length=32,
        description="Labels whose values make the group; empty: one group for the rule.",
    )
    window_minutes: int | None = Field(
        default=None,
        ge=1,
        le=MAX_WINDOW_MINUTES,
        description="An open incident whose newest alert is older than this takes no more"
        " alerts: a new one opens.",
    )
    priority: int = Field(
        default=0, ge=-1_000_000, le=1_000_000, description="Higher is tried first."
    )

    @field_validator("name")
    @classmethod
    def _name_fits_a_key(cls, name: str) -> str:
        if not RULE_NAME.match(name):
            raise ValueError("letters, digits, '.', '_' and '-' only, not first a punctuation")
        return name

    @field_validator("group_by")
    @classmethod
    def _label_names(cls, group_by: list[str]) -> list[str]:
        if problem := group_by_problem(group_by):
            raise ValueError(problem)
        return group_by


class GroupingRulePublic(GroupingRuleCreate):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
