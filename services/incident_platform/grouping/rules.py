"""The grouping rule: which group, and so which open incident, an alert joins.

* An alert's group is decided by the grouping rules in priority order (the highest
  ``priority`` first; rules of equal priority by name, so the choice never depends on
  the order rows come back in): the first rule whose matchers all match the alert's
  labels (``silence.rules`` semantics: anchored RE2 regexes, ``isEqual: false`` negates,
  a missing label is the empty value) groups it.
* The group key is the rule's name plus the values of its ``group_by`` labels, in the
  rule's order (a label the alert lacks counts as empty):
  ``rule:<name>/cluster="eu-1",region=""``. Names and label names cannot contain the
  separators and values are JSON-quoted, so two different groups never share a key.
* An alert that matches no rule keeps the per-service default: ``service:<name>``.
* With ``window_minutes``, a group's open incident whose newest alert is older than the
  window takes no more alerts (Keep's time frame): the next alert opens a new incident.
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from incident_platform.silence.rules import Matcher, matches_all

# Prometheus's label-name syntax; a group_by entry is a label name.
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# A rule's name appears in group keys, so it may not contain their separators.
RULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True, slots=True)
class GroupingRule:
    name: str
    matchers: tuple[Matcher, ...]
    group_by: tuple[str, ...]
    window_minutes: int | None = None
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Group:
    """The group an alert belongs to: its key, and the rule that made it (None: default)."""

    key: str
    rule: str | None = None
    window_minutes: int | None = None


def service_group_key(service: str) -> str:
    """The per-service default group key, which incidents of no rule carry."""
    return f"service:{service}"


def rule_group_key(rule: GroupingRule, labels: Mapping[str, str]) -> str:
    """The key of the group ``labels`` fall into under ``rule``."""
    values = ",".join(
        f"{name}={json.dumps(labels.get(name, ''), ensure_ascii=False)}" for name in rule.group_by
    )
    return f"rule:{rule.name}/{values}"


def by_priority(rules: Iterable[GroupingRule]) -> list[GroupingRule]:
    """The order rules are tried in: highest priority first, ties by name."""
    return sorted(rules, key=lambda rule: (-rule.priority, rule.name))


def group_of(labels: Mapping[str, str], service: str, rules: Sequence[GroupingRule]) -> Group:
    """The group rule: the first matching rule of ``rules`` (already :func:`by_priority`)
    decides the group; no match keeps the alert's service as its group."""
    for rule in rules:
        if matches_all(rule.matchers, labels):
            return Group(rule_group_key(rule, labels), rule.name, rule.window_minutes)
    return Group(service_group_key(service))


def window_closed(group: Group, newest_alert_at: datetime | None, now: datetime) -> bool:
    """The time-frame rule: whether an open incident of ``group`` whose newest alert came
    at ``newest_alert_at`` is too old to take another alert."""
    if group.window_minutes is None or newest_alert_at is None:
        return False
    return now - newest_alert_at > timedelta(minutes=group.window_minutes)


def group_by_problem(group_by: Sequence[str]) -> str | None:
    """Why ``group_by`` cannot be used, or None. An empty list is allowed: every alert
    the rule matches then shares one incident (the rule is the group)."""
    for name in group_by:
        if not LABEL_NAME.match(name):
            return f"{name!r} is not a label name (letters, digits and _, not first a digit)"
    if len(set(group_by)) != len(group_by):
        return "a label is listed twice"
    return None
