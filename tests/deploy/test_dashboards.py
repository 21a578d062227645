"""deploy/grafana/dashboards: well-formed for Grafana (no Grafana server runs here).

Unique panel ids, a datasource on every panel and target (the dashboard's datasource
variable), every variable used defined (or one of Grafana's), service and severity as regex
variables with All, units, thresholds and descriptions, no overlapping panels, the panels
the issue lists, and every query valid PromQL for promtool. That the queries work on a real
Prometheus is test_dashboards_on_prometheus.py.
"""

import subprocess
from itertools import combinations
from pathlib import Path

import pytest
import yaml

from support.dashboards import (
    BUILTINS,
    JSON,
    load_dashboards,
    panels,
    substitute,
    targets,
    variables_used,
)

DASHBOARDS = load_dashboards()
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
EXPECTED_PANELS = {
    "incident-response": {
        "MTTA (mean)", "MTTA (p90)", "MTTR (mean)", "MTTR (p90)", "MTTA over time",
        "MTTR over time", "Open incidents", "Open incidents by service",
        "Open incidents by severity", "Open incidents by status", "Incidents opened per day",
        "Alerts received by source and action", "Noise removed",
        "Notifications by channel and outcome", "Time from incident to first page",
    },
    "platform-health": {
        "Ready", "Request rate by component and route",
        "Latency percentiles by component and route",
        "Errors (5xx share) by component and route", "Database pool use",
        "Escalation engine tick duration", "Outbox backlog", "CPU by component and instance",
        "Memory by component and instance",
    },
}  # fmt: skip


def _content(dashboard: JSON) -> list[JSON]:
    return [panel for panel in panels(dashboard) if panel["type"] != "row"]


def test_the_two_dashboards() -> None:
    assert {name: board["title"] for name, board in DASHBOARDS.items()} == {
        "incident-response": "Incident response",
        "platform-health": "Platform health",
    }
    assert len({board["uid"] for board in DASHBOARDS.values()}) == 2
    for name, expected in EXPECTED_PANELS.items():
        titles = {panel["title"] for panel in _content(DASHBOARDS[name])}
        assert expected <= titles, expected - titles


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panel_ids_are_unique(name: str) -> None:
    ids = [panel["id"] for panel in panels(DASHBOARDS[name])]
    assert len(ids) == len(set(ids))
    assert all(isinstance(panel_id, int) for panel_id in ids)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_and_target_has_the_datasource_variable(name: str) -> None:
    variables = {v["name"]: v for v in DASHBOARDS[name]["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in _content(DASHBOARDS[name]):
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, (panel["title"], target["refId"])
            assert target["expr"].strip(), (panel["title"], target["refId"])
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE, variable["name"]


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_variable_used_exists(name: str) -> None:
    dashboard = DASHBOARDS[name]
    defined = {variable["name"] for variable in dashboard["templating"]["list"]}
    used: set[str] = set()
    for panel in _content(dashboard):
        for target in panel["targets"]:
            used |= variables_used(target["expr"])
        used |= variables_used(str(panel["datasource"]))
    for variable in dashboard["templating"]["list"]:
        used |= variables_used(str(variable.get("query", "")))
    assert used - defined <= set(BUILTINS), used - defined - set(BUILTINS)
    assert {"datasource", "service", "severity"} <= defined
    # ... and the check finds an undefined one.
    assert variables_used('rate(x{a=~"$team"}[$__range])') - defined - set(BUILTINS) == {"team"}


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_service_and_severity_are_regex_variables_with_all(name: str) -> None:
    dashboard = DASHBOARDS[name]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        assert variable["includeAll"] is True, variable["name"]
        assert variable["allValue"] == ".*", variable["name"]
        assert variable["multi"] is True, variable["name"]
        for panel in _content(dashboard):
            for target in panel["targets"]:
                expr = target["expr"]
                if f"${variable['name']}" in expr:
                    # A multi-value or All selection is a regex: only =~ matches it.
                    assert f'{variable["name"]}=~"${variable["name"]}"' in expr, panel["title"]
                    assert f'{variable["name"]}="${variable["name"]}"' not in expr, panel["title"]


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_units_thresholds_and_descriptions(name: str) -> None:
    for panel in _content(DASHBOARDS[name]):
        defaults = panel["fieldConfig"]["defaults"]
        assert defaults.get("unit"), panel["title"]
        steps = defaults["thresholds"]["steps"]
        assert steps[0]["value"] is None, panel["title"]
        assert len(panel["description"]) > 30, panel["title"]
    with_levels = [
        p
        for p in _content(DASHBOARDS[name])
        if len(p["fieldConfig"]["defaults"]["thresholds"]["steps"]) > 1
    ]
    assert len(with_levels) >= 5


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panels_do_not_overlap(name: str) -> None:
    boxes = [(p["title"], p["gridPos"]) for p in panels(DASHBOARDS[name])]
    for (a, one), (b, other) in combinations(boxes, 2):
        apart = (
            one["x"] + one["w"] <= other["x"]
            or other["x"] + other["w"] <= one["x"]
            or one["y"] + one["h"] <= other["y"]
            or other["y"] + other["h"] <= one["y"]
        )
        assert apart, (a, b)
        assert one["x"] + one["w"] <= 24, a


def test_promtool_parses_every_panel_query(promtool: str, tmp_path: Path) -> None:
    """Each query, variables substituted, as the expression of a recording rule."""
    rules = [
        {"record": f"dashboard:panel_{index}:check", "expr": substitute(target.expr)}
        for index, target in enumerate(targets(DASHBOARDS))
    ]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(rules)} rules found" in result.stdout
