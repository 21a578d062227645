"""The silence table and Alertmanager API v2's silence shapes (camelCase, as amtool sends)."""

import uuid
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator
from sqlalchemy import Column, DateTime, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from incident_platform.clock import utc_now
from incident_platform.silence.rules import (
    Matcher,
    SilenceRule,
    SilenceState,
    matches_everything,
    regex_problem,
)
from incident_platform.storable import AwareInstant, StorableModel


class Silence(SQLModel, table=True):
    __tablename__ = "silences"
    __table_args__ = (Index("ix_silences_ends_at", "ends_at"),)

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    matchers: list[dict[str, Any]] = SQLField(sa_column=Column(JSONB, nullable=False))
    starts_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    ends_at: datetime = SQLField(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_by: str = SQLField(sa_column=Column(String(255), nullable=False))
    comment: str = SQLField(sa_column=Column(Text, nullable=False))
    created_at: datetime = SQLField(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    updated_at: datetime = SQLField(
        default_factory=utc_now,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


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
        if matchers_everything(matchers):
            raise ValueError("at least one matcher must not match the empty value")
        return matchers

    @field_validator("endsAt")
    @classmethod
    def _ends_after_start(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("startsAt")
        if starts_at is not None and ends_at < starts_at:
            raise ValueError("must not be before startsAt")
        return ends_at


def matchers_everything(matchers: list[MatcherModel]) -> bool:
    return matches_everything([matcher.rule() for matcher in matchers])


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


def stored_matchers(matchers: list[MatcherModel]) -> list[dict[str, Any]]:
    return [matcher.model_dump() for matcher in matchers]


def rule_of(silence: Silence) -> SilenceRule:
    return SilenceRule(
        id=silence.id,
        matchers=matcher_rules(silence.matchers),
        starts_at=silence.starts_at,
        ends_at=silence.ends_at,
    )


def matcher_rules(stored: list[dict[str, Any]]) -> tuple[Matcher, ...]:
    return tuple(
        Matcher(m["name"], m["value"], bool(m["isRegex"]), bool(m.get("isEqual", True)))
        for m in stored
    )
