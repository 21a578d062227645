"""Matchers as stored JSON: the explicit mapping between the rules' :class:`Matcher` and the
``matchers`` document kept in ``silences.matchers`` and ``grouping_rules.matchers``.

Storage is written and read here and nowhere else, so the HTTP shapes (:mod:`.models`) can
change without changing what is on disk. The document is the one Alertmanager writes
(``name``, ``value``, ``isRegex``, ``isEqual``), so a stored silence reads back as the API's
shape unchanged. A stored matcher without ``isEqual`` reads as an equality matcher.
"""

from collections.abc import Sequence
from typing import Any

from incident_platform.silence.rules import Matcher


def stored_matchers(matchers: Sequence[Matcher]) -> list[dict[str, Any]]:
    return [
        {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}
        for m in matchers
    ]


def matcher_rules(stored: list[dict[str, Any]]) -> tuple[Matcher, ...]:
    return tuple(
        Matcher(m["name"], m["value"], bool(m["isRegex"]), bool(m.get("isEqual", True)))
        for m in stored
    )
