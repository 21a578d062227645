"""What the operator holds while it runs: the memo lookup, the login it picks, the shared
Kubernetes client (waiting for the first login, replaced on new credentials), start-up with
a bad configuration, the liveness report and shutdown."""

import asyncio
import logging

import kopf
import pytest

from incident_operator.crd import FINALIZER
from incident_operator.kube import KubeClient
from incident_operator.runtime import (
    PRIORITY_OF_EXPLICIT_SERVER,
    Runtime,
    connection_info,
    operator_cleanup,
    operator_login,
    operator_probe,
    operator_startup,
    runtime_of,
)
from incident_operator.settings import Config

pytestmark = pytest.mark.asyncio

LOGGER = logging.getLogger("test-runtime")
# Nothing is asked of these in this module: the runtime only holds their clients.
UNUSED = "http://127.0.0.1:1"


def config(**overrides: object) -> Config:
    values: dict[str, object] = {
        "alert_ingestion_url": UNUSED,
        "incident_management_url": UNUSED,
        "platform_integration_key": "key",
        "platform_api_token": "token",
        "incident_namespace": "incidents",
        **overrides,
    }
    return Config.model_validate(values)


async def test_handlers_before_start_up_are_told_to_retry_later() -> None:
    for memo in (kopf.Memo(), kopf.Memo(runtime="not a runtime")):
        with pytest.raises(kopf.TemporaryError, match="not finished starting") as raised:
            runtime_of(memo)
        assert raised.value.delay == 5

    runtime = Runtime.create(config())
    try:
        assert runtime_of(kopf.Memo(runtime=runtime)) is runtime
    finally:
        await runtime.aclose()


async def test_an_explicit_api_server_wins_over_kopfs_own_logins() -> None:
    settings = kopf.OperatorSettings()
    with_token = config(kube_api_server="http://127.0.0.1:8001", kube_api_token="s3cret")
    without = config(kube_api_server="http://127.0.0.1:8001")

    info = connection_info(with_token, settings=settings, logger=LOGGER)
    anonymous = connection_info(without, settings=settings, logger=LOGGER)

    assert info is not None
    assert (info.server, info.token, info.default_namespace, info.priority) == (
        "http://127.0.0.1:8001",
        "s3cret",
        "incidents",
        PRIORITY_OF_EXPLICIT_SERVER,
    )
    assert anonymous is not None
    assert anonymous.token is None


async def test_the_kube_client_waits_for_the_first_login_and_follows_new_credentials() -> None:
    runtime = Runtime.create(config())
    try:
        waiting = asyncio.ensure_future(runtime.kube())
        await asyncio.sleep(0)
        assert not waiting.done(), "no client before kopf has logged in"

        first_login = kopf.ConnectionInfo(server="http://127.0.0.1:1")
        runtime.connect(first_login)
        first = await asyncio.wait_for(waiting, timeout=10)
        assert isinstance(first, KubeClient)
        assert await runtime.kube() is first, "one client while the credentials stay"

        runtime.connect(kopf.ConnectionInfo(server="http://127.0.0.1:2"))
        second = await runtime.kube()
        assert second is not first
        assert first._client.is_closed, "the old client is closed, not leaked"
    finally:
        await runtime.aclose()
    assert second._client.is_closed


async def test_login_hands_the_chosen_credentials_to_the_runtime() -> None:
    runtime = Runtime.create(config(kube_api_server="http://127.0.0.1:8001"))
    memo = kopf.Memo(runtime=runtime)
    try:
        info = operator_login(settings=kopf.OperatorSettings(), memo=memo, logger=LOGGER)
        assert info is not None
        assert runtime.connection is info
    finally:
        await runtime.aclose()


async def test_start_up_with_a_bad_configuration_stops_the_operator_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PLATFORM_INTEGRATION_KEY", raising=False)
    monkeypatch.delenv("PLATFORM_API_TOKEN", raising=False)
    memo = kopf.Memo()

    with pytest.raises(kopf.PermanentError, match="invalid operator configuration"):
        await operator_startup(settings=kopf.OperatorSettings(), memo=memo, logger=LOGGER)

    assert "runtime" not in memo


async def test_start_up_sets_the_finalizer_and_starts_the_feed_and_cleanup_stops_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "ALERT_INGESTION_URL": UNUSED,
        "INCIDENT_MANAGEMENT_URL": UNUSED,
        "PLATFORM_INTEGRATION_KEY": "key",
        "PLATFORM_API_TOKEN": "token",
    }.items():
        monkeypatch.setenv(name, value)
    settings = kopf.OperatorSettings()
    memo = kopf.Memo()

    await operator_startup(settings=settings, memo=memo, logger=LOGGER)
    runtime = runtime_of(memo)
    task = runtime._task

    assert settings.persistence.finalizer == FINALIZER
    assert task is not None
    assert not task.done()
    assert operator_probe(memo=memo) == runtime.feed.state.report()

    await operator_cleanup(memo=memo)
    assert task.done()
    await operator_cleanup(memo=kopf.Memo())  # nothing started: nothing to stop
