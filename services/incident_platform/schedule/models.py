"""HTTP shapes of schedules and overrides, ready for FastAPI request/response models.

They accept exactly the documented JSON (unknown keys are refused), so a bad request
is answered 422 with the offending field in ``loc``. Datetimes must carry an offset:
a naive one is refused rather than read in some zone. ``to_domain`` hands the pure
rules their frozen dataclasses; ``from_domain`` goes back for responses (through the
same JSON as storage, :mod:`.codec`).
"""

from datetime import datetime
from typing import Annotated, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from incident_platform.schedule.codec import layers_to_json
from incident_platform.schedule.restrictions import Restriction
from incident_platform.schedule.rotation import (
    CustomRotation,
    DailyRotation,
    Rotation,
    WeeklyRotation,
)
from incident_platform.schedule.rules import OVERRIDE_LAYER, Layer, Override, Schedule
from incident_platform.schedule.validation import (
    FieldError,
    parse_clock_time,
    parse_day,
    parse_timezone,
    parse_weekday,
    validate_shift_hours,
)
from incident_platform.storable import AwareInstant, StorableModel


def _clock_time(text: str) -> str:
    try:
        parse_clock_time(text, "value")
    except FieldError as error:
        raise ValueError(error.reason) from None
    return text


def _iana_zone(name: str) -> str:
    try:
        parse_timezone(name)
    except FieldError as error:
        raise ValueError(error.reason) from None
    return name


def _shift_hours(hours: float) -> float:
    try:
        return validate_shift_hours(hours, "value")
    except FieldError as error:
        raise ValueError(error.reason) from None


_Item = TypeVar("_Item")


def _at_least_one(what: str) -> AfterValidator:
    def check(items: list[_Item]) -> list[_Item]:
        if not items:
            raise ValueError(what)
        return items

    return AfterValidator(check)


ClockTime = Annotated[str, AfterValidator(_clock_time)]
"""A wall-clock "HH:MM" in the schedule's zone."""

UserId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WeekdayName = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class _Strict(StorableModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DailyRotationModel(_Strict):
    type: Literal["daily"]
    handoff_time: ClockTime


class WeeklyRotationModel(_Strict):
    type: Literal["weekly"]
    handoff_time: ClockTime
    handoff_day: WeekdayName


class CustomRotationModel(_Strict):
    type: Literal["custom"]
    shift_hours: Annotated[float, AfterValidator(_shift_hours)]


RotationModel = Annotated[
    DailyRotationModel | WeeklyRotationModel | CustomRotationModel,
    Field(discriminator="type"),
]


class RestrictionModel(_Strict):
    days: Annotated[list[Day], _at_least_one("a restriction needs at least one day")]
    start: ClockTime
    end: ClockTime


class LayerModel(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    users: Annotated[list[UserId], _at_least_one("a layer needs at least one user")]
    start: AwareInstant
    rotation: RotationModel
    restrictions: list[RestrictionModel] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name == OVERRIDE_LAYER:
            raise ValueError(f"{OVERRIDE_LAYER!r} is reserved for overrides")
        return name


class ScheduleModel(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    timezone: Annotated[str, AfterValidator(_iana_zone)]
    layers: Annotated[list[LayerModel], _at_least_one("a schedule needs at least one layer")]

    @field_validator("layers")
    @classmethod
    def _distinct_layer_names(cls, layers: list[LayerModel]) -> list[LayerModel]:
        seen: set[str] = set()
        for index, layer in enumerate(layers):
            if layer.name in seen:
                raise ValueError(
                    f"layers[{index}].name: another layer is already named {layer.name!r}"
                )
            seen.add(layer.name)
        return layers

    def to_domain(self) -> Schedule:
        return Schedule(
            name=self.name,
            timezone=self.timezone,
            layers=tuple(_layer_to_domain(layer) for layer in self.layers),
        )

    @classmethod
    def from_domain(cls, schedule: Schedule) -> Self:
        return cls.model_validate(
            {
                "name": schedule.name,
                "timezone": schedule.timezone,
                "layers": layers_to_json(schedule),
            }
        )


class OverrideModel(_Strict):
    user: UserId
    start: AwareInstant
    end: AwareInstant

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if isinstance(start, datetime) and end <= start:
            raise ValueError("an override must end after it starts")
        return end

    def to_domain(self, sequence: int) -> Override:
        """``sequence`` is the creation order the store assigned: higher is newer and wins."""
        return Override(user=self.user, start=self.start, end=self.end, sequence=sequence)

    @classmethod
    def from_domain(cls, override: Override) -> Self:
        return cls(user=override.user, start=override.start, end=override.end)


def _layer_to_domain(layer: LayerModel) -> Layer:
    return Layer(
        name=layer.name,
        users=tuple(layer.users),
        start=layer.start,
        rotation=_rotation_to_domain(layer.rotation),
        restrictions=tuple(
            Restriction(
                days=frozenset(parse_day(day, "days") for day in restriction.days),
                start=parse_clock_time(restriction.start, "start"),
                end=parse_clock_time(restriction.end, "end"),
            )
            for restriction in layer.restrictions
        ),
    )


def _rotation_to_domain(
    rotation: DailyRotationModel | WeeklyRotationModel | CustomRotationModel,
) -> Rotation:
    if isinstance(rotation, CustomRotationModel):
        return CustomRotation(shift_hours=rotation.shift_hours)
    handoff_time = parse_clock_time(rotation.handoff_time, "handoff_time")
    if isinstance(rotation, WeeklyRotationModel):
        return WeeklyRotation(handoff_time, parse_weekday(rotation.handoff_day, "handoff_day"))
    return DailyRotation(handoff_time)
