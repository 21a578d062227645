"""The Grafana dashboards of deploy/grafana/dashboards as the tests read them.

No Grafana server runs here: the tests substitute the template variables the way Grafana
would for "All" (``.*``) and a time range, then hand the PromQL to promtool or a real
Prometheus.
"""

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = REPO / "deploy" / "grafana" / "dashboards"

# Grafana's own variables the dashboards use, with the values of a 1 h time range.
BUILTINS = {"__range": "1h", "__rate_interval": "1m", "__interval": "15s"}
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")

JSON = dict[str, Any]


@dataclass(frozen=True)
class Target:
    dashboard: str
    panel_id: int
    panel_title: str
    panel_type: str
    ref_id: str
    expr: str
    instant: bool


def load_dashboards() -> dict[str, JSON]:
    return {
        path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS_DIR.glob("*.json"))
    }


def panels(dashboard: JSON) -> Iterator[JSON]:
    """Every panel, those nested in rows included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets(dashboards: Mapping[str, JSON]) -> Iterator[Target]:
    for name, dashboard in dashboards.items():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                yield Target(
                    name,
                    panel["id"],
                    panel["title"],
                    panel["type"],
                    target["refId"],
                    target["expr"],
                    bool(target.get("instant")),
                )


def variables_used(text: str) -> set[str]:
    return {braced or plain for braced, plain in VARIABLE.findall(text)}


def substitute(expr: str, values: Mapping[str, str] | None = None) -> str:
    """``expr`` with every variable replaced: Grafana's built-ins, then ``values``, else All."""
    chosen = {**BUILTINS, **(values or {})}

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return chosen.get(name, ".*")

    return VARIABLE.sub(value, expr)
