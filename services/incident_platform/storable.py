"""What the services accept is what PostgreSQL can store and the rules can compute with.

One place decides, for every model and parameter of every service:

* text: PostgreSQL refuses the NUL character in ``text`` and ``jsonb``, and JSON can
  carry lone UTF-16 surrogates (``"\\ud800"``) that are not Unicode at all and cannot be
  encoded for the database. :func:`refuse_unstorable` walks a value (strings, dict keys
  and values, lists) and refuses both, naming where inside the value it found them;
  :class:`StorableModel` and :class:`StorableSQLModel` run it on every field of every
  request model, and :data:`StorableStr` on query and path parameters. Pydantic turns
  the ``ValueError`` into a 422 whose ``loc`` names the field.
* instants: :data:`EARLIEST_INSTANT` to :data:`LATEST_INSTANT` (1970-01-01 to
  2200-01-01 UTC), so date arithmetic in the schedule and escalation rules never
  overflows and a rendered range stays small.
* ids: at most :data:`MAX_BIGINT`, the largest value of a PostgreSQL ``bigint`` column.
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
)
from sqlmodel import SQLModel

MAX_BIGINT = 2**63 - 1
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2200, 1, 1, tzinfo=UTC)

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

_Value = TypeVar("_Value")


def _problem(text: str) -> str | None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    character = found.group()
    if character == "\x00":
        return "contains a NUL character (U+0000), which cannot be stored"
    return f"contains a lone surrogate (U+{ord(character):04X}), which is not valid Unicode"


def _shown(key: str) -> str:
    return repr(key.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace"))


def _find(value: object, where: str) -> str | None:
    if isinstance(value, str):
        problem = _problem(value)
        return f"{where}{' ' if where else ''}{problem}" if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (problem := _problem(key)):
                return f"key {_shown(key)}{' in ' + where if where else ''} {problem}"
            found = _find(item, f"{where}[{_shown(str(key))}]")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find(item, f"{where}[{index}]")
            if found:
                return found
    return None


def _plainly_storable(value: object) -> bool:
    """A quick yes for the shapes nearly every field has (a string, a flat dict of strings):
    one regex search over them all rather than one per string. False means "look closer",
    not "unstorable". Joining strings cannot make or hide a NUL or a lone surrogate: a
    Python string never merges two surrogates into one character."""
    if isinstance(value, str):  # enums of strings too
        return _UNSTORABLE.search(value) is None
    if type(value) is dict:
        try:
            return _UNSTORABLE.search("".join(value) + "".join(value.values())) is None
        except TypeError:  # keys or values other than strings
            return False
    return False


def refuse_unstorable(value: _Value) -> _Value:
    """``value`` unchanged, or ``ValueError`` naming where a NUL or lone surrogate is."""
    if _plainly_storable(value):
        return value
    problem = _find(value, "")
    if problem:
        raise ValueError(problem)
    return value


def check_instant(value: datetime) -> datetime:
    """``value`` unchanged if within the accepted range (naive values are read as UTC)."""
    comparable = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not EARLIEST_INSTANT <= comparable <= LATEST_INSTANT:
        raise ValueError(
            f"must be between {EARLIEST_INSTANT.date().isoformat()} and"
            f" {LATEST_INSTANT.date().isoformat()} (UTC)"
        )
    return value


StorableStr = Annotated[str, AfterValidator(refuse_unstorable)]
"""A string parameter (query, path) that PostgreSQL can store."""

Instant = Annotated[datetime, AfterValidator(check_instant)]
"""A datetime within the accepted range; an offset is optional (naive is UTC)."""

AwareInstant = Annotated[AwareDatetime, AfterValidator(check_instant)]
"""A datetime within the accepted range that must carry an offset."""

DatabaseId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
"""A ``bigint`` primary key: 1 to 2**63 - 1."""


# Values with no text in them: nothing to walk.
_TEXTLESS = frozenset({type(None), bool, int, float, datetime})


def _every_field(value: Any, info: ValidationInfo) -> Any:
    # Runs for every field of every request model (700 times for a webhook of 100
    # alerts, 12 % of that row's CPU): the common types are settled before
    # ``isinstance(value, BaseModel)``, an ABC check that cost more than the walk itself,
    # and a plain string without a further call.
    kind = type(value)
    if kind is str:
        if _UNSTORABLE.search(value) is None:
            return value
    elif kind in _TEXTLESS or _plainly_storable(value):
        return value
    # Nested models check their own fields; everything else is walked here.
    if isinstance(value, BaseModel):
        return value
    return refuse_unstorable(value)


class StorableModel(BaseModel):
    """Base of request models: no field may hold text PostgreSQL cannot store."""

    _storable_fields = field_validator("*")(_every_field)


class StorableSQLModel(SQLModel):
    """:class:`StorableModel` for SQLModel bases shared by request models and tables."""

    _storable_fields = field_validator("*")(_every_field)
