"""Which alerts a silence mutes, as plain functions over data (Alertmanager's semantics).

* A silence's matchers apply to an alert's labels: the labels its sender gave, with
  ``service`` and ``severity`` always present with the platform's normalised values.
  A label the alert lacks has the empty value, as in Alertmanager.
* ``isRegex`` matchers are anchored at both ends (``api`` does not match ``api-2``);
  ``isEqual: false`` negates the matcher. Every matcher must match.
* Regexes are RE2, the syntax Alertmanager (Go's ``regexp``) accepts, matched in linear
  time: a silence runs on every incoming alert, so a pattern must not be able to
  backtrack for ever (Python's ``re`` can, on ``(a+)+$``).
* A silence is ``pending`` before ``startsAt``, ``active`` until ``endsAt``, then
  ``expired``; only an active silence mutes.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any
from uuid import UUID

import re2


class SilenceState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True


@dataclass(frozen=True, slots=True)
class SilenceRule:
    id: UUID
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is the client's 422, not our log line


@lru_cache(maxsize=1024)
def anchored(pattern: str) -> Any:
    """``pattern`` compiled (RE2) to match whole values; ``re2.error`` if it is not a regex."""
    return re2.compile(f"(?:{pattern})", _RE2_OPTIONS)


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable regular expression, or None."""
    try:
        anchored(pattern)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return f"invalid regular expression: {reason}"
    return None


def matcher_matches(matcher: Matcher, value: str) -> bool:
    if matcher.is_regex:
        found = anchored(matcher.value).fullmatch(value) is not None
    else:
        found = value == matcher.value
    return found is matcher.is_equal


def alert_labels(labels: Mapping[str, Any], *, service: str, severity: str) -> dict[str, str]:
    """The label set silences are matched against: the sender's, with the normalised two."""
    return {
        **{str(name): str(value) for name, value in labels.items()},
        "service": service,
        "severity": severity,
    }


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(matcher_matches(matcher, labels.get(matcher.name, "")) for matcher in matchers)


def state_of(starts_at: datetime, ends_at: datetime, now: datetime) -> SilenceState:
    if now < starts_at:
        return SilenceState.PENDING
    if now < ends_at:
        return SilenceState.ACTIVE
    return SilenceState.EXPIRED


def active_silences(silences: Sequence[SilenceRule], now: datetime) -> list[SilenceRule]:
    return [s for s in silences if state_of(s.starts_at, s.ends_at, now) is SilenceState.ACTIVE]


def first_matching(labels: Mapping[str, str], silences: Sequence[SilenceRule]) -> UUID | None:
    """The first of ``silences`` whose matchers all match ``labels``, or None."""
    for silence in silences:
        if matches_all(silence.matchers, labels):
            return silence.id
    return None


def muting_silence(
    labels: Mapping[str, str], silences: Sequence[SilenceRule], now: datetime
) -> UUID | None:
    """The active silence that mutes an alert with these labels (the first given), or None."""
    return first_matching(labels, active_silences(silences, now))


def matches_everything(matchers: Sequence[Matcher]) -> bool:
    """Whether every matcher matches the empty value, so the silence would mute every alert.

    Alertmanager refuses such silences: at least one matcher must need a label.
    """
    return all(matcher_matches(matcher, "") for matcher in matchers)


_FILTER = re.compile(r'^\s*([^=!~\s"]+)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(\S*))\s*$')


def parse_filter(text: str) -> Matcher:
    """An Alertmanager filter such as ``service="api"`` or ``severity=~"high|critical"``.

    ``ValueError`` says why ``text`` is not one.
    """
    found = _FILTER.match(text)
    if found is None:
        raise ValueError(f'not a matcher like name="value": {text!r}')
    name, operator, quoted, bare = found.groups()
    value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
    matcher = Matcher(name, value, is_regex="~" in operator, is_equal="!" not in operator)
    if matcher.is_regex and (problem := regex_problem(value)):
        raise ValueError(f"{text!r}: {problem}")
    return matcher


def silence_matches_filter(silence: SilenceRule, filters: Iterable[Matcher]) -> bool:
    """Alertmanager's ``GET /silences?filter=``: filters apply to the silence's matcher values."""
    values = {matcher.name: matcher.value for matcher in silence.matchers}
    return matches_all(filters, values)
