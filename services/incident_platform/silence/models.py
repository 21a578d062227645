"""Alertmanager API v2's silence shapes (camelCase, as amtool sends)."""

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from incident_platform.silence.rules import Matcher, SilenceState, matches_everything, regex_problem
from incident_platform.storable import AwareInstant, StorableModel


class MatcherModel(StorableModel):
    name: str = Field(min_length=1, max_length=255)
    value: str = Field(max_length=1024)
    isRegex: bool
    isEqual: bool = True

    @model_validator(mode="after")
    def _regex_compiles(self) -> Self:
        if self.isRegex and (problem := regex_problem(self.value)):
            raise ValueError(f"value: {problem}")
        return self

    def rule(self) -> Matcher:
        return Matcher(self.name, self.value, self.isRegex, self.isEqual)


class PostableSilence(StorableModel):
    """``POST /api/v2/silences``: a new silence, or with ``id`` a change to that one."""

    id: uuid.UUID | None = None
    matchers: list[MatcherModel] = Field(min_length=1, max_length=64)
    startsAt: AwareInstant
    endsAt: AwareInstant
    createdBy: str = Field(min_length=1, max_length=255)
    comment: str = Field(min_length=1, max_length=4096)

    @field_validator("matchers")
    @classmethod
    def _needs_a_label(cls, matchers: list[MatcherModel]) -> list[MatcherModel]:
        if matches_everything([matcher.rule() for matcher in matchers]):
            raise ValueError("at least one matcher must not match the empty value")
        return matchers

    @field_validator("endsAt")
    @classmethod
    def _ends_after_start(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("startsAt")
        if starts_at is not None and ends_at < starts_at:
            raise ValueError("must not be before startsAt")
        return ends_at


class SilenceStatus(BaseModel):
    state: SilenceState


class GettableSilence(BaseModel):
    id: uuid.UUID
    status: SilenceStatus
    updatedAt: datetime
    matchers: list[MatcherModel]
    startsAt: datetime
    endsAt: datetime
    createdBy: str
    comment: str


class SilenceCreated(BaseModel):
    silenceID: uuid.UUID
