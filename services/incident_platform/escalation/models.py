"""HTTP shape of ``POST /api/v1/escalation-policies``, ready for a FastAPI route.

Exactly the documented JSON (unknown keys refused); a bad field is answered 422 with
its path in ``loc``. ``to_domain`` hands the pure rules their frozen dataclasses;
``from_domain`` goes back for responses (through the same JSON as storage, :mod:`.codec`).
"""

from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from incident_platform.escalation.codec import steps_to_json
from incident_platform.escalation.rules import (
    MAX_DELAY_MINUTES,
    MAX_REPEAT,
    REPEAT_NEEDS_A_GAP,
    EscalationPolicy,
    EscalationStep,
    ScheduleTarget,
    Target,
    UserTarget,
    WebhookTarget,
)
from incident_platform.storable import StorableModel

TargetId = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class _Strict(StorableModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleTargetModel(_Strict):
    type: Literal["schedule"]
    id: TargetId


class UserTargetModel(_Strict):
    type: Literal["user"]
    id: TargetId


# Below HttpUrl's own 2083, so the normalised form stored (which may gain a "/") reads back.
MAX_WEBHOOK_URL = 2048


class WebhookTargetModel(_Strict):
    type: Literal["webhook"]
    url: HttpUrl  # http or https only, with a host

    @field_validator("url")
    @classmethod
    def _fits(cls, url: HttpUrl) -> HttpUrl:
        if len(str(url)) > MAX_WEBHOOK_URL:
            raise ValueError(f"must be at most {MAX_WEBHOOK_URL} characters")
        return url


TargetModel = Annotated[
    ScheduleTargetModel | UserTargetModel | WebhookTargetModel,
    Field(discriminator="type"),
]


def _some_targets(targets: list[TargetModel]) -> list[TargetModel]:
    if not targets:
        raise ValueError("a step needs at least one target")
    return targets


def _some_steps(steps: list["EscalationStepModel"]) -> list["EscalationStepModel"]:
    if not steps:
        raise ValueError("a policy needs at least one step")
    return steps


class EscalationStepModel(_Strict):
    delay_minutes: Annotated[int, Field(ge=0, le=MAX_DELAY_MINUTES)]
    targets: Annotated[list[TargetModel], AfterValidator(_some_targets)]


class EscalationPolicyModel(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    steps: Annotated[list[EscalationStepModel], AfterValidator(_some_steps)]
    repeat: Annotated[int, Field(ge=0, le=MAX_REPEAT)] = 0

    @field_validator("repeat")
    @classmethod
    def _repeats_need_a_gap(cls, repeat: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")
        if repeat and steps and max(steps[0].delay_minutes, steps[-1].delay_minutes) == 0:
            raise ValueError(REPEAT_NEEDS_A_GAP)
        return repeat

    def to_domain(self) -> EscalationPolicy:
        return EscalationPolicy(
            name=self.name,
            steps=tuple(
                EscalationStep(step.delay_minutes, tuple(_target(t) for t in step.targets))
                for step in self.steps
            ),
            repeat=self.repeat,
        )

    @classmethod
    def from_domain(cls, policy: EscalationPolicy) -> Self:
        return cls.model_validate(
            {"name": policy.name, "repeat": policy.repeat, "steps": steps_to_json(policy)}
        )


def _target(model: ScheduleTargetModel | UserTargetModel | WebhookTargetModel) -> Target:
    match model:
        case ScheduleTargetModel(id=target_id):
            return ScheduleTarget(target_id)
        case UserTargetModel(id=target_id):
            return UserTarget(target_id)
        case WebhookTargetModel(url=url):
            return WebhookTarget(str(url))
