"""`make run`'s Prometheus: a hint when the binary is missing, a clean refusal when its port is
taken. (Started and scraping: tests/deploy/test_dashboards_on_prometheus.py runs it.)"""

import socket
from pathlib import Path

import pytest

from incident_platform.devtools.devprometheus import (
    MISSING_HINT,
    RULES_DIR,
    scrape_config,
    start_prometheus,
)
from support.debian import debian_tool


def test_missing_binary_prints_one_line_and_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert start_prometheus(tmp_path, "127.0.0.1", {"oncall": "127.0.0.1:8003"}) is None
    assert capsys.readouterr().out == MISSING_HINT + "\n"
    assert "apt-get install prometheus" in MISSING_HINT
    assert not (tmp_path / "prometheus").exists()


def test_a_taken_port_is_reported_and_nothing_is_left_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    debian_tool("prometheus", "prometheus")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert start_prometheus(tmp_path, "127.0.0.1", {"oncall": "x:1"}, port) is None
    assert f"is :{port} taken?" in capsys.readouterr().out


def test_scrape_config_names_the_component_and_loads_the_rules() -> None:
    rules = sorted(str(path) for path in RULES_DIR.glob("*.yml"))
    assert len(rules) == 2
    config = scrape_config({"alert-ingestion": "h:8001", "oncall": "h:8003"}, rules)
    assert config["global"]["scrape_interval"] == "5s"
    assert config["rule_files"] == rules
    assert [(job["job_name"], job["static_configs"]) for job in config["scrape_configs"]] == [
        ("alert-ingestion", [{"targets": ["h:8001"], "labels": {"component": "alert-ingestion"}}]),
        ("oncall", [{"targets": ["h:8003"], "labels": {"component": "oncall"}}]),
    ]
