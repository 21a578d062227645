"""The operator's configuration, read from the environment."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from incident_operator.settings import Config, oncall_sync_enabled, silence_refresh_seconds


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_INGESTION_URL", "http://alert-ingestion:8001/")
    monkeypatch.setenv("PLATFORM_INTEGRATION_KEY", "key")
    monkeypatch.setenv("PLATFORM_API_TOKEN", "s3cr3t-responder")
    monkeypatch.setenv("INCIDENT_NAMESPACE", "incidents")
    monkeypatch.setenv("FEED_POLL_INTERVAL_SECONDS", "2.5")
    config = Config()
    assert config.alert_ingestion_url == "http://alert-ingestion:8001"
    assert config.platform_integration_key.get_secret_value() == "key"
    assert config.incident_namespace == "incidents"
    assert config.feed_poll_interval_seconds == 2.5
    assert config.public_url == config.incident_management_url
    assert "s3cr3t" not in repr(config)


def test_settings_refuse_what_cannot_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLATFORM_INTEGRATION_KEY", raising=False)
    monkeypatch.delenv("PLATFORM_API_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="platform_integration_key"):
        Config()
    for field, value in (
        ("incident_namespace", "Not_A_Namespace"),
        ("alert_ingestion_url", "alert-ingestion:8001"),
        ("feed_poll_interval_seconds", 0),
    ):
        with pytest.raises(ValidationError, match=field):
            Config.model_validate(
                {"platform_integration_key": "k", "platform_api_token": "t", field: value}
            )


def test_on_call_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONCALL_API_TOKEN", raising=False)
    assert not oncall_sync_enabled()
    monkeypatch.setenv("ONCALL_API_TOKEN", "   ")
    assert not oncall_sync_enabled()
    config = Config(platform_integration_key="k", platform_api_token="t")
    assert config.oncall_api_token is None
    assert config.oncall_url == "http://127.0.0.1:8003"
    assert config.oncall_unresolved_retry_seconds == 300
    monkeypatch.setenv("ONCALL_API_TOKEN", "ipt_a-secret")
    monkeypatch.setenv("ONCALL_URL", "http://oncall.example:8003/")
    assert oncall_sync_enabled()
    config = Config(platform_integration_key="k", platform_api_token="t")
    assert config.oncall_api_token == SecretStr("ipt_a-secret")
    assert config.oncall_url == "http://oncall.example:8003"


def test_the_silence_timer_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SILENCE_REFRESH_SECONDS", raising=False)
    assert silence_refresh_seconds() == 60
    assert (
        Config(platform_integration_key="k", platform_api_token="t").silence_refresh_seconds == 60
    )
    monkeypatch.setenv("SILENCE_REFRESH_SECONDS", "5")
    assert silence_refresh_seconds() == 5
    assert Config(platform_integration_key="k", platform_api_token="t").silence_refresh_seconds == 5
    monkeypatch.setenv("SILENCE_REFRESH_SECONDS", "0")
    with pytest.raises(ValidationError, match="silence_refresh_seconds"):
        silence_refresh_seconds()
