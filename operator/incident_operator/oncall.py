"""What the on-call handlers hold while the operator runs: the on-call client, in kopf's memo.

Only active when ``ONCALL_API_TOKEN`` (an admin token of the on-call service) is set; without
it :mod:`incident_operator.main` registers none of the on-call handlers and
:func:`oncall_sync_off` logs once that on-call sync is off. Kubernetes reads go through the
operator's one client (:meth:`incident_operator.runtime.Runtime.kube`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import kopf

from incident_operator.clients.core import backoff_delay
from incident_operator.clients.oncall import OnCallClient
from incident_operator.kube import KubeError
from incident_operator.runtime import Runtime, runtime_of
from incident_operator.settings import Config

MEMO_KEY = "oncall"


@dataclass
class OnCallSync:
    """The on-call client and the runtime's Kubernetes access, kept in ``memo.oncall``."""

    runtime: Runtime
    client: OnCallClient

    @classmethod
    def create(cls, runtime: Runtime) -> OnCallSync:
        return cls(runtime=runtime, client=OnCallClient(runtime.config))

    @property
    def config(self) -> Config:
        return self.runtime.config

    def backoff(self, retry: int) -> float:
        return backoff_delay(
            retry, base=self.config.retry_delay_seconds, cap=self.config.max_retry_delay_seconds
        )

    async def get_object(
        self, plural: str, namespace: str, name: str, *, retry: int
    ) -> dict[str, Any] | None:
        try:
            return await (await self.runtime.kube()).get_object(plural, namespace, name)
        except KubeError as error:
            raise kopf.TemporaryError(str(error), delay=self.backoff(retry)) from error

    async def list_objects(self, plural: str, *, retry: int) -> list[dict[str, Any]]:
        """Every object of the kind in all namespaces."""
        try:
            return await (await self.runtime.kube()).list_objects(plural)
        except KubeError as error:
            raise kopf.TemporaryError(str(error), delay=self.backoff(retry)) from error

    async def aclose(self) -> None:
        await self.client.aclose()


def oncall_of(memo: kopf.Memo) -> OnCallSync:
    found = memo.get(MEMO_KEY)
    if not isinstance(found, OnCallSync):
        raise kopf.TemporaryError("on-call sync has not finished starting", delay=5)
    return found


async def oncall_startup(memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """After :func:`incident_operator.runtime.operator_startup`: the on-call client."""
    runtime = runtime_of(memo)
    if runtime.config.oncall_api_token is None:
        raise kopf.PermanentError("on-call sync is registered but ONCALL_API_TOKEN is not set")
    memo[MEMO_KEY] = OnCallSync.create(runtime)
    logger.info("on-call sync is on: schedules and policies go to %s", runtime.config.oncall_url)


async def oncall_cleanup(memo: kopf.Memo, **_: Any) -> None:
    found = memo.get(MEMO_KEY)
    if isinstance(found, OnCallSync):
        await found.aclose()


def oncall_sync_off(logger: kopf.Logger, **_: Any) -> None:
    """Registered instead of every on-call handler when ``ONCALL_API_TOKEN`` is not set."""
    logger.info(
        "on-call sync is off (ONCALL_API_TOKEN is not set): OnCallSchedule and"
        " EscalationPolicy objects are not synced to the on-call service"
    )
