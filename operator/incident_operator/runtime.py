"""What the operator holds while it runs, and its operator-level (not per-object) handlers.

``operator_startup`` reads the configuration once, builds the platform client and starts the
incident feed follower; it all lives in kopf's memo (``memo.runtime``), which kopf hands, as a
shallow copy, to every handler. ``operator_login`` tells kopf which API server to use and gives
the same credentials to the feed follower.

The follower is a background task of the operator rather than a kopf daemon or timer: those
belong to one Kubernetes object (and put a finalizer on it), while the feed is cluster-level,
and it has to *create* the objects it mirrors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import kopf
from pydantic import ValidationError

from incident_operator.clients.platform import PlatformClient
from incident_operator.crd import FINALIZER
from incident_operator.feed import FeedFollower
from incident_operator.kube import KubeClient
from incident_operator.settings import Config

# Above kopf's own login handlers (service account 10, kubeconfig 20, client 40, pykube 50).
PRIORITY_OF_EXPLICIT_SERVER = 100

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: Config
    platform: PlatformClient
    feed: FeedFollower = field(init=False)
    connection: kopf.ConnectionInfo | None = None
    _kube: KubeClient | None = None
    _kube_for: kopf.ConnectionInfo | None = None
    _connected: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.feed = FeedFollower(self.config, self.platform, self.kube)

    @classmethod
    def create(cls, config: Config) -> Runtime:
        return cls(config=config, platform=PlatformClient(config))

    def connect(self, connection: kopf.ConnectionInfo) -> None:
        """Use these credentials for the follower's Kubernetes requests from now on."""
        self.connection = connection
        self._connected.set()

    async def kube(self) -> KubeClient:
        """The Kubernetes client for the current credentials (waits for the first login); the
        feed follower and the on-call sync share it."""
        await self._connected.wait()
        assert self.connection is not None
        if self._kube is None or self._kube_for is not self.connection:
            if self._kube is not None:
                await self._kube.aclose()
            self._kube = KubeClient(self.connection, timeout=self.config.http_timeout_seconds)
            self._kube_for = self.connection
        return self._kube

    def start_feed(self) -> None:
        self._task = asyncio.create_task(self.feed.run(self._stop), name="incident feed")

    async def aclose(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._kube is not None:
            await self._kube.aclose()
        await self.platform.aclose()


def runtime_of(memo: kopf.Memo) -> Runtime:
    runtime = memo.get("runtime")
    if not isinstance(runtime, Runtime):
        raise kopf.TemporaryError("the operator has not finished starting", delay=5)
    return runtime


def connection_info(
    config: Config, *, settings: kopf.OperatorSettings, logger: kopf.Logger
) -> kopf.ConnectionInfo | None:
    """KUBE_API_SERVER if set (e.g. ``kubectl proxy``), else what kopf itself would use:
    the kubernetes client's in-cluster or kubeconfig login, else the plain readers."""
    if config.kube_api_server:
        token = config.kube_api_token.get_secret_value() if config.kube_api_token else None
        return kopf.ConnectionInfo(
            server=config.kube_api_server,
            token=token,
            default_namespace=config.incident_namespace,
            priority=PRIORITY_OF_EXPLICIT_SERVER,
        )
    return (
        kopf.login_via_client(settings=settings, logger=logger)
        or kopf.login_with_service_account(settings=settings)
        or kopf.login_with_kubeconfig(settings=settings)
    )


async def operator_startup(
    settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    try:
        config = Config()
    except ValidationError as error:
        # Retrying cannot fix the environment: stop the operator with the reason.
        raise kopf.PermanentError(f"invalid operator configuration: {error}") from error
    settings.persistence.finalizer = FINALIZER
    runtime = Runtime.create(config)
    memo["runtime"] = runtime
    runtime.start_feed()
    logger.info(
        "incident operator started: ingestion %s, incidents %s, mirrors in namespace %s",
        config.alert_ingestion_url,
        config.incident_management_url,
        config.incident_namespace,
    )


async def operator_cleanup(memo: kopf.Memo, **_: Any) -> None:
    runtime = memo.get("runtime")
    if isinstance(runtime, Runtime):
        await runtime.aclose()


def operator_login(
    settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> kopf.ConnectionInfo | None:
    runtime = runtime_of(memo)
    info = connection_info(runtime.config, settings=settings, logger=logger)
    if info is not None:
        runtime.connect(info)
    return info


def operator_probe(memo: kopf.Memo, **_: Any) -> dict[str, object]:
    """Reported on the liveness endpoint (``kopf run --liveness``) as ``incidentFeed``."""
    return runtime_of(memo).feed.state.report()
