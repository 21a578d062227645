"""deploy/prometheus/rules: promtool accepts every file and its unit tests pass; each alert
is documented (summary, description, a runbook section that exists) and unit-tested."""

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES = REPO_ROOT / "deploy" / "prometheus" / "rules"
RULE_FILES = sorted(RULES.glob("*.yml"))
UNIT_TESTS = RULES / "tests" / "alerts.test.yml"
RUNBOOKS = REPO_ROOT / "docs" / "runbooks.md"


def _promtool(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=120, check=False
    )


def rules_of(kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found.extend(rule for rule in group["rules"] if kind in rule)
    return found


def test_promtool_accepts_every_rule_file(promtool: str) -> None:
    assert {path.name for path in RULE_FILES} == {"alerts.yml", "recording.yml"}
    result = _promtool(promtool, "check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_a_broken_rule(promtool: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - record: a:b\n        expr: sum(\n")
    assert _promtool(promtool, "check", "rules", str(broken)).returncode != 0


def test_alert_unit_tests_pass(promtool: str) -> None:
    result = _promtool(promtool, "test", "rules", str(UNIT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_alert_unit_tests_fail_when_an_alert_does_not_fire(promtool: str, tmp_path: Path) -> None:
    """The unit tests would catch a rule that stopped firing: here one whose threshold moved."""
    (tmp_path / "tests").mkdir()
    alerts = (
        (RULES / "alerts.yml")
        .read_text()
        .replace("> 300\n        for: 5m", "> 1e9\n        for: 5m")
    )
    assert "> 1e9" in alerts
    (tmp_path / "alerts.yml").write_text(alerts)
    (tmp_path / "recording.yml").write_text((RULES / "recording.yml").read_text())
    (tmp_path / "tests" / "alerts.test.yml").write_text(UNIT_TESTS.read_text())
    result = _promtool(promtool, "test", "rules", str(tmp_path / "tests" / "alerts.test.yml"))
    assert result.returncode != 0
    assert "IncidentPlatformNotificationOutboxBackingUp" in result.stdout + result.stderr


def test_every_alert_has_a_summary_a_description_and_a_runbook_section() -> None:
    anchors = {
        re.sub(r"[^a-z0-9-]", "", line[3:].strip().lower().replace(" ", "-"))
        for line in RUNBOOKS.read_text().splitlines()
        if line.startswith("## ")
    }
    alerts = rules_of("alert")
    assert len(alerts) == 7
    for rule in alerts:
        annotations = rule["annotations"]
        assert annotations["summary"].strip(), rule["alert"]
        assert len(annotations["description"]) > 80, rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        page, anchor = annotations["runbook_url"].split("#")
        assert page == "docs/runbooks.md", rule["alert"]
        assert anchor == rule["alert"].lower(), rule["alert"]
        assert anchor in anchors, f"docs/runbooks.md has no section {rule['alert']}"


def test_every_alert_is_unit_tested_firing_and_quiet() -> None:
    tests = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in rules_of("alert")}
    assert firing == names
    assert names - {"IncidentPlatformMTTAObjectiveBreached"} <= quiet


def test_mtta_objective_reads_a_recorded_series() -> None:
    recorded = {rule["record"] for rule in rules_of("record")}
    (objective,) = [
        r for r in rules_of("alert") if r["alert"] == "IncidentPlatformMTTAObjectiveBreached"
    ]
    assert objective["expr"].split()[0] in recorded


def test_recording_rules_cover_mtta_and_mttr_per_service_and_overall() -> None:
    recorded = {rule["record"] for rule in rules_of("record")}
    expected = {
        f"{level}:incident_time_to_{what}_seconds:{stat}"
        for level in ("service", "platform")
        for what in ("acknowledge", "resolve")
        for stat in ("mean1h", "p50_1h", "p90_1h", "mean1d", "p50_1d", "p90_1d")
    }
    assert recorded == expected
    for rule in rules_of("record"):
        expr = " ".join(rule["expr"].split())
        window = "1h" if rule["record"].endswith("1h") else "1d"
        assert f"[{window}]" in expr, rule["record"]
        if ":mean" in rule["record"]:
            assert re.search(r"rate\(\w+_sum\[\w+\]\)\) / .*rate\(\w+_count\[", expr), rule[
                "record"
            ]
        else:
            quantile = "0.50" if ":p50" in rule["record"] else "0.90"
            assert expr.startswith(f"histogram_quantile({quantile},"), rule["record"]
        grouped = "by (service" in expr
        assert grouped == rule["record"].startswith("service:"), rule["record"]
