"""Follows the platform's incident change feed and keeps one Incident object per incident.

The feed (``GET /api/v1/incidents?changed_after=<seq>``) lists incidents whose ``change_seq``
is above a cursor, oldest change first; every change on the platform (an alert attached, an
acknowledgement, a resolution, from any sender) moves the incident's ``change_seq`` up.

Cursor and restarts
    The cursor lives in memory and moves after each incident is mirrored, so a tick only asks
    for what changed since the last one. It is not stored anywhere else: the durable record of
    what has been mirrored is the mirrors themselves (``status.changeSeq`` of each Incident
    object). On start, the follower lists the Incident objects of its namespace, remembers
    which change of which incident each one shows, and replays the feed from 0: an incident
    whose mirror already shows its current change is skipped without any Kubernetes write,
    a missing mirror is created (409 AlreadyExists -> patched instead), a stale one patched.
    So a restart creates no duplicates and writes only what changed while it was down.

    The same replay runs every ``FEED_RESYNC_SECONDS``: it re-creates mirrors someone deleted.
    The feed itself never skips a change: it serves only positions below the oldest running
    writer's (services/incident_platform/incident/feed.py), so a position committed late is
    never overtaken by one already read.

One broken object
    A mirror that cannot be written (the API server refuses that one object, or building it
    fails) is logged, reported by the liveness probe (``brokenMirrors``: incident id and
    reason) and passed over, so the incidents after it are still mirrored; the replay at
    the next resync tries it again. Only an outage (Kubernetes or the platform unreachable)
    stops the page, since it affects every mirror.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from incident_operator.builders.incident import (
    incident_name,
    incident_object,
    incident_status,
    mirrored_change_seqs,
)
from incident_operator.clients.core import PlatformRejected, PlatformUnavailable, backoff_delay
from incident_operator.clients.platform import PlatformClient
from incident_operator.crd import INCIDENTS
from incident_operator.kube import KubeClient, KubeError, ObjectGone, ObjectRejected
from incident_operator.models import PlatformIncident
from incident_operator.settings import Config

logger = logging.getLogger(__name__)


@dataclass
class FeedState:
    """What the liveness probe reports about the follower."""

    cursor: int = 0
    mirrors_written: int = 0
    last_success: datetime | None = None
    last_error: str | None = None
    failures_in_a_row: int = 0
    # incident id -> why its mirror could not be written (cleared once it is).
    broken: dict[int, str] = field(default_factory=dict)

    def report(self) -> dict[str, object]:
        return {
            "cursor": self.cursor,
            "mirrorsWritten": self.mirrors_written,
            "lastSuccess": self.last_success.isoformat() if self.last_success else None,
            "lastError": self.last_error,
            "brokenMirrors": {str(key): reason for key, reason in self.broken.items()},
        }


@dataclass
class FeedFollower:
    config: Config
    platform: PlatformClient
    kube: Callable[[], Awaitable[KubeClient]]
    state: FeedState = field(default_factory=FeedState)
    # incident id -> change_seq its mirror shows (-1: the mirror exists, status not written).
    _mirrored: dict[int, int] | None = None
    _next_resync: float = 0.0

    async def start_over(self) -> None:
        """Forget the cursor: learn what the mirrors show and replay the feed from 0."""
        kube = await self.kube()
        objects = await kube.list_objects(INCIDENTS, self.config.incident_namespace)
        self._mirrored = mirrored_change_seqs(objects)
        self.state.cursor = 0
        resync = self.config.feed_resync_seconds
        self._next_resync = time.monotonic() + resync if resync > 0 else float("inf")

    async def sync_page(self) -> int:
        """Mirror one page of the feed; returns how many incidents it held."""
        if self._mirrored is None or time.monotonic() >= self._next_resync:
            await self.start_over()
        assert self._mirrored is not None
        page = await self.platform.changed_incidents(
            self.state.cursor, self.config.feed_page_size, attempt=self.state.failures_in_a_row
        )
        for incident in page:
            try:
                await self.mirror(incident)
            except (KubeError, PlatformUnavailable) as error:
                if not isinstance(error, ObjectRejected):
                    raise  # an outage: every mirror depends on it
                self._broken(incident, error)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # building this one failed; the others still can
                self._broken(incident, error)
            else:
                self.state.broken.pop(incident.id, None)
            self.state.cursor = max(self.state.cursor, incident.change_seq)
        return len(page)

    def _broken(self, incident: PlatformIncident, error: Exception) -> None:
        """This object only: say so and go on; the replay at the next resync tries again."""
        reason = f"{type(error).__name__}: {error}"[:1000]
        self.state.broken[incident.id] = reason
        logger.error("mirror of incident %s not written: %s", incident.id, reason)

    async def sync(self) -> None:
        """Mirror everything the feed has now (page after page)."""
        while await self.sync_page() >= self.config.feed_page_size:
            pass

    async def mirror(self, incident: PlatformIncident) -> None:
        """Create or update the Incident object of ``incident`` (idempotent)."""
        assert self._mirrored is not None
        shown = self._mirrored.get(incident.id)
        if shown is not None and shown >= incident.change_seq:
            return
        kube = await self.kube()
        namespace = self.config.incident_namespace
        name = incident_name(incident.id)
        status = incident_status(incident, public_url=self.config.public_url)
        if shown is None:
            created = await kube.create_object(INCIDENTS, incident_object(incident, namespace))
            logger.info("%s %s/%s", "created" if created else "found", namespace, name)
        try:
            await kube.patch_status(INCIDENTS, namespace, name, status)
        except ObjectGone:  # deleted by hand since we listed: bring it back
            await kube.create_object(INCIDENTS, incident_object(incident, namespace))
            await kube.patch_status(INCIDENTS, namespace, name, status)
        self._mirrored[incident.id] = incident.change_seq
        self.state.mirrors_written += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; outages are logged and retried with backoff."""
        while not stop.is_set():
            try:
                await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the follower must outlive any single failure
                self.state.failures_in_a_row += 1
                self.state.last_error = f"{type(error).__name__}: {error}"
                # Outages and refusals are expected: a warning; anything else is a bug.
                expected = isinstance(error, (KubeError, PlatformUnavailable, PlatformRejected))
                delay = getattr(error, "delay", None) or backoff_delay(
                    self.state.failures_in_a_row - 1,
                    base=self.config.retry_delay_seconds,
                    cap=self.config.max_retry_delay_seconds,
                )
                log = logger.warning if expected else logger.exception
                log("incident feed: %s; retrying in %.1fs", self.state.last_error, delay)
                if isinstance(error, KubeError):
                    self._mirrored = None  # re-list the mirrors once Kubernetes answers again
            else:
                self.state.failures_in_a_row = 0
                self.state.last_error = None
                self.state.last_success = datetime.now(UTC)
                delay = self.config.feed_poll_interval_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
