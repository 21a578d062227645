"""On-call schedules: pure rules (no database, no HTTP) and their adapters.

Where each rule lives:

* :mod:`.wallclock` - what a local wall-clock time means across DST (gaps, folds);
  weekdays;
* :mod:`.rotation` - which user a layer's rotation puts on call when; the rotation kinds;
* :mod:`.restrictions` - when a layer has anyone at all; restriction windows;
* :mod:`.rules` - layer and override precedence: :func:`oncall_at`, :func:`render_shifts`;
  layers, schedules, overrides and the shifts they render.

Each value type lives with the rule that reads it, lower modules never import higher
ones (wallclock <- restrictions, rotation <- rules), so there is no import cycle.
* :mod:`.validation` - input checks whose errors name the field;
* :mod:`.models` - the HTTP shapes (pydantic), :mod:`.ical` - the calendar feed;
* :mod:`.tables` and :mod:`.store` - storage, its JSON written by :mod:`.codec`.
"""

from incident_platform.schedule.ical import schedule_to_ics
from incident_platform.schedule.restrictions import Restriction
from incident_platform.schedule.rotation import (
    CustomRotation,
    DailyRotation,
    Rotation,
    WeeklyRotation,
)
from incident_platform.schedule.rules import (
    OVERRIDE_LAYER,
    Layer,
    OnCall,
    Override,
    Schedule,
    Shift,
    layer_shifts,
    oncall_at,
    render_shifts,
)
from incident_platform.schedule.validation import (
    FieldError,
)
from incident_platform.schedule.wallclock import Weekday, wall_clock_to_utc

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
