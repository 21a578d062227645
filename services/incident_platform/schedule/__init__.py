"""On-call schedules: pure rules (no database, no HTTP) and their adapters.

Where each rule lives:

* :mod:`.wallclock` - what a local wall-clock time means across DST (gaps, folds);
* :mod:`.rotation` - which user a layer's rotation puts on call when;
* :mod:`.restrictions` - when a layer has anyone at all;
* :mod:`.rules` - layer and override precedence: :func:`oncall_at`, :func:`render_shifts`;
* :mod:`.validation` - input checks whose errors name the field;
* :mod:`.models` - the HTTP shapes (pydantic), :mod:`.ical` - the calendar feed;
* :mod:`.tables` and :mod:`.store` - storage, its JSON written by :mod:`.codec`.
"""

from incident_platform.schedule.domain import (
    OVERRIDE_LAYER,
    CustomRotation,
    DailyRotation,
    Layer,
    OnCall,
    Override,
    Restriction,
    Rotation,
    Schedule,
    Shift,
    Weekday,
    WeeklyRotation,
)
from incident_platform.schedule.ical import schedule_to_ics
from incident_platform.schedule.rules import layer_shifts, oncall_at, render_shifts
from incident_platform.schedule.validation import (
    FieldError,
)
from incident_platform.schedule.wallclock import wall_clock_to_utc

__all__ = [
    "OVERRIDE_LAYER",
    "CustomRotation",
    "DailyRotation",
    "FieldError",
    "Layer",
    "OnCall",
    "Override",
    "Restriction",
    "Rotation",
    "Schedule",
    "Shift",
    "Weekday",
    "WeeklyRotation",
    "layer_shifts",
    "oncall_at",
    "render_shifts",
    "schedule_to_ics",
    "wall_clock_to_utc",
]
