"""On-call as code: OnCallSchedule objects synced to the on-call service, and what the
EscalationPolicy handlers (:mod:`incident_operator.escalationpolicy`) share with them.

Only active when ``ONCALL_API_TOKEN`` (an admin token of the on-call service) is set; without
it :mod:`incident_operator.main` registers none of these handlers and logs once that on-call
sync is off.

* create / update of the spec / resume after a restart: user references (e-mail address, else
  user name) are resolved with ``GET /api/v1/users``, the service's schedule JSON is built
  (:func:`incident_operator.builders.schedule_request`) and sent: ``PUT`` to
  ``status.syncedId`` when there is one, else ``POST``. Sending the same content again changes
  nothing, so a resume simply re-sends it.
* No duplicates: a ``POST`` answered 422 on ``name`` means a schedule of that name exists
  (typically created by an earlier attempt whose id never reached the status): it is looked up
  by name and adopted (``PUT``), unless another object already syncs to it, which is then a
  ``NameTaken`` failure. A ``PUT`` answered 404 (deleted in the service by hand) creates the
  schedule again.
* Name in the service: ``spec.name``, else ``<namespace>/<metadata.name>``, so objects of two
  namespaces never share (and overwrite) one schedule by accident.
* delete: kopf's finalizer holds the object until the schedule is deleted in the service
  (404: already gone). A 409 ("used by escalation policy X") is a ``kopf.TemporaryError`` with
  the service's message in the ``Ready`` condition: deleting that policy first unblocks it.

Outcomes, in ``status`` (``phase``, ``Ready`` condition, ``message``, ``observedGeneration``):

* synced -> ``Synced``, ``syncedId``;
* a user that is unknown to the service, or a name that several users share ->
  ``Failed``/``UnresolvedUser`` naming each field (``spec.layers[0].users[1]: no user
  "dave@example.com"``) and a ``kopf.TemporaryError`` after ``ONCALL_UNRESOLVED_RETRY_SECONDS``
  (default 5 minutes). Not a PermanentError: the spec is not wrong, the user just does not
  exist *yet*, and creating a user in the on-call service makes no Kubernetes event, so a
  permanent failure would stay failed until someone edits the object or restarts the
  operator. The long delay keeps it to one ``GET /api/v1/users`` per object and period;
* refused by the service (422 ...) -> ``Failed``/``Rejected`` with its message, a
  ``kopf.PermanentError`` (the next spec change tries again);
* on-call service down -> ``Pending``/``OnCallUnavailable`` and a ``kopf.TemporaryError``
  after ``Retry-After`` or a backoff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import kopf

from incident_operator.builders import (
    GROUP,
    ONCALL_SCHEDULES,
    VERSION,
    OnCallPhase,
    UnresolvedReferences,
    oncall_problem_status,
    oncall_synced_status,
    schedule_request,
    synced_id_claimed_by,
)
from incident_operator.client import (
    OnCallClient,
    OnCallCollection,
    OnCallInUse,
    OnCallNameRefused,
    OnCallNotFound,
    PlatformRejected,
    PlatformUnavailable,
    backoff_delay,
)
from incident_operator.kube import KubeClient, KubeError
from incident_operator.runtime import Runtime, runtime_of
from incident_operator.settings import Config

MEMO_KEY = "oncall"


# --- Reading our objects through the Kubernetes API -------------------------------------------


class ObjectReader(KubeClient):
    """Reads OnCallSchedule and EscalationPolicy objects with the operator's credentials (kopf's
    own API client is internal): the same connection as the incident feed's client."""

    @staticmethod
    def _path(plural: str, namespace: str | None = None) -> str:
        if namespace is None:
            return f"/apis/{GROUP}/{VERSION}/{plural}"
        return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}"

    async def get_object(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or ``None`` if there is no such object."""
        response = await self._request("GET", f"{self._path(plural, namespace)}/{name}")
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise KubeError(f"reading {plural} {namespace}/{name}: {response.text}")
        found: dict[str, Any] = response.json()
        return found

    async def list_objects(self, plural: str) -> list[dict[str, Any]]:
        """Every object of the kind in all namespaces (following ``continue`` tokens)."""
        items: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": "500"}
        while True:
            response = await self._request("GET", self._path(plural), params=params)
            if response.status_code >= 400:
                raise KubeError(f"listing {plural}: {response.text}")
            data = response.json()
            items.extend(data.get("items") or [])
            token = (data.get("metadata") or {}).get("continue")
            if not token:
                return items
            params = {"limit": "500", "continue": token}


# --- What the on-call handlers hold while the operator runs -----------------------------------


@dataclass
class OnCallSync:
    """The on-call client and the Kubernetes reader, kept in kopf's memo (``memo.oncall``)."""

    runtime: Runtime
    client: OnCallClient
    _reader: ObjectReader | None = field(default=None, repr=False)
    _reader_for: kopf.ConnectionInfo | None = field(default=None, repr=False)

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

    async def _kube(self) -> ObjectReader:
        connection = self.runtime.connection
        if connection is None:
            raise kopf.TemporaryError("not logged in to Kubernetes yet", delay=1)
        if self._reader is None or self._reader_for is not connection:
            if self._reader is not None:
                await self._reader.aclose()
            self._reader = ObjectReader(connection, timeout=self.config.http_timeout_seconds)
            self._reader_for = connection
        return self._reader

    async def get_object(
        self, plural: str, namespace: str, name: str, *, retry: int
    ) -> dict[str, Any] | None:
        try:
            return await (await self._kube()).get_object(plural, namespace, name)
        except KubeError as error:
            raise kopf.TemporaryError(str(error), delay=self.backoff(retry)) from error

    async def list_objects(self, plural: str, *, retry: int) -> list[dict[str, Any]]:
        try:
            return await (await self._kube()).list_objects(plural)
        except KubeError as error:
            raise kopf.TemporaryError(str(error), delay=self.backoff(retry)) from error

    async def aclose(self) -> None:
        if self._reader is not None:
            await self._reader.aclose()
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


# --- The sync both kinds share -----------------------------------------------------------------


@dataclass(frozen=True)
class OnCallKind:
    kind: str
    plural: str
    collection: OnCallCollection
    noun: str


SCHEDULE = OnCallKind("OnCallSchedule", ONCALL_SCHEDULES, "schedules", "schedule")


class NameTaken(kopf.PermanentError):
    """The service's object of that name is already synced from another Kubernetes object."""


def report_unresolved(
    body: kopf.Body,
    patch: kopf.Patch,
    sync: OnCallSync,
    error: UnresolvedReferences,
    retry: int,
) -> kopf.TemporaryError:
    """Status and retry for references that point at nothing yet (see the module docstring):
    only OnCallSchedules still to be synced -> ``Pending`` and a short backoff (the operator
    syncs them itself); any unresolved user -> ``Failed`` and the long delay."""
    message = str(error)
    long_wait = sync.config.oncall_unresolved_retry_seconds
    phase: OnCallPhase
    if error.users:
        phase, reason = "Failed", "UnresolvedUser"
        delay = min(long_wait, sync.backoff(retry)) if error.schedules else long_wait
    else:
        phase, reason, delay = "Pending", "WaitingForSchedule", sync.backoff(retry)
    patch.status.update(oncall_problem_status(body, reason=reason, message=message, phase=phase))
    return kopf.TemporaryError(message, delay=delay)


async def fetch_users(
    body: kopf.Body, patch: kopf.Patch, sync: OnCallSync, retry: int
) -> list[dict[str, Any]]:
    """The on-call service's users, which references are resolved against."""
    try:
        return await sync.client.users(attempt=retry)
    except PlatformUnavailable as error:
        patch.status.update(
            oncall_problem_status(
                body, reason="OnCallUnavailable", message=str(error), phase="Pending"
            )
        )
        raise


async def _adopt(
    kind: OnCallKind,
    body: kopf.Body,
    sync: OnCallSync,
    request: dict[str, Any],
    refused: OnCallNameRefused,
    logger: kopf.Logger,
    retry: int,
) -> dict[str, Any]:
    """``POST`` said the name is taken: take over the existing one unless another object has."""
    name = str(request["name"])
    existing = await sync.client.find_by_name(kind.collection, name, attempt=retry)
    if existing is None:
        raise refused  # the name itself was refused (too long ...), not taken
    existing_id = str(existing["id"])
    owner = synced_id_claimed_by(
        await sync.list_objects(kind.plural, retry=retry), existing_id, body
    )
    if owner is not None:
        raise NameTaken(
            f"a {kind.noun} named {name!r} exists in the on-call service and is synced from"
            f" {kind.kind} {owner}: give this one another spec.name"
        )
    logger.info("adopting the existing %s %r (%s)", kind.noun, name, existing_id)
    try:
        return await sync.client.replace(kind.collection, existing_id, request, attempt=retry)
    except OnCallNotFound as error:
        raise kopf.TemporaryError(
            f"{kind.noun} {name!r} was deleted while being adopted", delay=sync.backoff(retry)
        ) from error


async def push(
    kind: OnCallKind,
    body: kopf.Body,
    patch: kopf.Patch,
    sync: OnCallSync,
    request: dict[str, Any],
    logger: kopf.Logger,
    retry: int,
) -> None:
    """Create or replace the object in the service, and report it in the status."""
    client = sync.client
    synced_id = body.status.get("syncedId")
    try:
        result: dict[str, Any] | None = None
        if synced_id:
            try:
                result = await client.replace(
                    kind.collection, str(synced_id), request, attempt=retry
                )
            except OnCallNotFound:
                logger.warning("%s %s is gone from the on-call service", kind.noun, synced_id)
        if result is None:
            try:
                result = await client.create(kind.collection, request, attempt=retry)
            except OnCallNameRefused as refused:
                result = await _adopt(kind, body, sync, request, refused, logger, retry)
    except NameTaken as error:
        patch.status.update(
            oncall_problem_status(body, reason="NameTaken", message=str(error), phase="Failed")
        )
        raise
    except PlatformRejected as error:
        patch.status.update(
            oncall_problem_status(body, reason="Rejected", message=error.message, phase="Failed")
        )
        raise
    except PlatformUnavailable as error:
        patch.status.update(
            oncall_problem_status(
                body, reason="OnCallUnavailable", message=str(error), phase="Pending"
            )
        )
        raise
    new_id = str(result["id"])
    patch.status.update(oncall_synced_status(body, synced_id=new_id, name=str(request["name"])))
    logger.info("%s %r synced to the on-call service as %s", kind.noun, request["name"], new_id)


async def remove(
    kind: OnCallKind,
    body: kopf.Body,
    patch: kopf.Patch,
    sync: OnCallSync,
    logger: kopf.Logger,
    retry: int,
) -> None:
    """Delete the object in the service before kopf lets the Kubernetes object go."""
    synced_id = body.status.get("syncedId")
    if not synced_id:
        logger.info("this %s never reached the on-call service: nothing to delete", kind.noun)
        return
    try:
        deleted = await sync.client.delete(kind.collection, str(synced_id), attempt=retry)
    except OnCallInUse as error:
        patch.status.update(
            oncall_problem_status(body, reason="InUse", message=error.message, phase=None)
        )
        raise kopf.TemporaryError(error.message, delay=sync.backoff(retry)) from error
    except PlatformUnavailable as error:
        patch.status.update(
            oncall_problem_status(body, reason="OnCallUnavailable", message=str(error), phase=None)
        )
        raise
    except PlatformRejected as error:
        logger.warning(
            "the on-call service refused deleting %s %s: %s", kind.noun, synced_id, error.message
        )
        raise
    if deleted:
        logger.info("%s %s deleted from the on-call service", kind.noun, synced_id)
    else:
        logger.info("%s %s was already gone from the on-call service", kind.noun, synced_id)


# --- OnCallSchedule handlers ------------------------------------------------------------------


async def _sync_schedule(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, logger: kopf.Logger, retry: int
) -> None:
    sync = oncall_of(memo)
    users = await fetch_users(body, patch, sync, retry)
    try:
        request = schedule_request(body, users)
    except UnresolvedReferences as error:
        raise report_unresolved(body, patch, sync, error, retry) from error
    await push(SCHEDULE, body, patch, sync, request, logger, retry)


async def oncallschedule_create(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await _sync_schedule(body, patch, memo, logger, retry)


async def oncallschedule_update(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await _sync_schedule(body, patch, memo, logger, retry)


async def oncallschedule_resume(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    """After a restart: send the same content again (changes nothing if nothing changed)."""
    await _sync_schedule(body, patch, memo, logger, retry)


async def oncallschedule_delete(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int = 0,
    **_: Any,
) -> None:
    await remove(SCHEDULE, body, patch, oncall_of(memo), logger, retry)
