"""Loading incidents and carrying out lifecycle transitions in PostgreSQL."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from incident_platform.alert.correlation import AlertStatus
from incident_platform.alert.tables import Alert
from incident_platform.incident.feed import PUBLIC_ROWS, changed_since
from incident_platform.incident.lifecycle import (
    OPEN_STATUSES,
    IllegalTransition,
    IncidentStatus,
    Transition,
    closes_alerts,
    next_status,
)
from incident_platform.incident.notify import incidents_changed
from incident_platform.incident.tables import INCIDENTS, Incident, TimelineEvent, TimelineKind
from incident_platform.metrics import observe_acknowledged, observe_resolved
from incident_platform.paging import newest_first_rows
from incident_platform.severity import Severity


class IncidentNotFound(Exception):
    def __init__(self, incident_id: int) -> None:
        super().__init__(f"incident {incident_id} not found")
        self.incident_id = incident_id


class ServiceAlreadyOpen(Exception):
    """Reopening would give a service two open incidents."""

    def __init__(self, service: str, open_incident_id: int | None) -> None:
        super().__init__(
            f"service {service!r} already has open incident {open_incident_id};"
            " resolve it first or attach there"
        )
        self.open_incident_id = open_incident_id


@dataclass(frozen=True)
class IncidentFilter:
    status: IncidentStatus | None = None
    service: str | None = None
    severity: Severity | None = None
    changed_after: int | None = None


def list_incidents(
    session: Session | Connection, filters: IncidentFilter, *, limit: int, cursor: str | None
) -> tuple[list[Row[Any]], str | None]:
    """Newest first, keyset-paginated on id so deep pages cost what the first one does;
    rows of the columns the API shows (``PUBLIC_ROWS``), for ``models.public_fields``."""
    query = PUBLIC_ROWS
    if filters.status is not None:
        query = query.where(INCIDENTS.c.status == filters.status.value)
    if filters.service is not None:
        query = query.where(INCIDENTS.c.service == filters.service)
    if filters.severity is not None:
        query = query.where(INCIDENTS.c.severity == filters.severity.value)
    if filters.changed_after is not None:
        # The change feed: oldest change first, so a follower can resume from a cursor.
        return changed_since(query, session, filters.changed_after, limit=limit), None
    return newest_first_rows(session, query, INCIDENTS.c.id, limit=limit, cursor=cursor)


def get_incident(session: Session, incident_id: int, *, for_update: bool = False) -> Incident:
    query = select(Incident).where(col(Incident.id) == incident_id)
    if for_update:
        # NO KEY: alert inserts hold KEY SHARE on their incident (the foreign key);
        # a plain FOR UPDATE would wait on them, and they may be waiting on us.
        query = query.with_for_update(key_share=True)  # renders FOR NO KEY UPDATE
    incident: Incident | None = session.execute(query).scalar_one_or_none()
    if incident is None:
        raise IncidentNotFound(incident_id)
    return incident


def incident_alerts(session: Session, incident_id: int) -> list[Alert]:
    query = select(Alert).where(col(Alert.incident_id) == incident_id).order_by(col(Alert.id))
    return list(session.execute(query).scalars())


def incident_timeline(session: Session, incident_id: int) -> list[TimelineEvent]:
    query = (
        select(TimelineEvent)
        .where(col(TimelineEvent.incident_id) == incident_id)
        .order_by(col(TimelineEvent.id))
    )
    return list(session.execute(query).scalars())


def _record(
    session: Session,
    incident: Incident,
    kind: TimelineKind,
    actor: str,
    message: str,
    data: dict[str, Any] | None = None,
) -> None:
    assert incident.id is not None
    session.add(
        TimelineEvent(
            incident_id=incident.id, kind=kind, actor=actor, message=message, data=data or {}
        )
    )


def _touch(session: Session, incident: Incident) -> None:
    """Marks a change: a new time and the next position in the change feed."""
    now, sequence = session.execute(
        text("SELECT now(), greatest(incident_change_position(), :previous + 1)"),
        {"previous": incident.change_seq},
    ).one()
    incident.updated_at = now
    incident.change_seq = sequence


def transition(session: Session, incident_id: int, action: Transition, *, actor: str) -> Incident:
    """Apply a lifecycle transition under a row lock; raises ``IllegalTransition``."""
    incident = get_incident(session, incident_id, for_update=True)
    status = next_status(IncidentStatus(incident.status), action)
    _touch(session, incident)
    now = incident.updated_at
    incident.status = status
    if action is Transition.ACKNOWLEDGE:
        incident.acknowledged_at = now
        _record(session, incident, TimelineKind.ACKNOWLEDGED, actor, f"Acknowledged by {actor}")
    elif action is Transition.RESOLVE:
        incident.resolved_at = now
        _record(session, incident, TimelineKind.RESOLVED, actor, f"Resolved by {actor}")
    else:
        incident.resolved_at = None
        incident.acknowledged_at = None
        _record(session, incident, TimelineKind.REOPENED, actor, f"Reopened by {actor}")
    if closes_alerts(action):
        session.execute(
            update(Alert)
            .where(col(Alert.incident_id) == incident_id, col(Alert.status) == AlertStatus.FIRING)
            .values(status=AlertStatus.RESOLVED.value, resolved_at=now, last_seen_at=now)
        )
    try:
        session.commit()
        incidents_changed(session.get_bind())
    except IntegrityError as error:
        session.rollback()
        other = session.execute(
            select(col(Incident.id)).where(
                col(Incident.group_key) == incident.group_key,
                col(Incident.accepts_alerts),
                col(Incident.status).in_([s.value for s in OPEN_STATUSES]),
            )
        ).scalar_one_or_none()
        raise ServiceAlreadyOpen(incident.service, other) from error
    severity = str(incident.severity)
    if action is Transition.ACKNOWLEDGE and incident.acknowledged_at is not None:
        observe_acknowledged(
            incident.service, severity, incident.created_at, incident.acknowledged_at
        )
    if action is Transition.RESOLVE and incident.resolved_at is not None:
        observe_resolved(incident.service, severity, incident.created_at, incident.resolved_at)
    return incident


def acknowledge_by_fingerprint(session: Session, fingerprint: str, *, actor: str) -> int | None:
    """PagerDuty's acknowledge event: the incident holding the firing alert, if any.

    A repeated acknowledgement (``lifecycle.is_repeated``) is accepted silently, as
    PagerDuty does for senders that repeat themselves; any other refusal is raised
    (:class:`IllegalTransition`).
    """
    incident_id: int | None = session.execute(
        select(col(Alert.incident_id)).where(
            col(Alert.fingerprint) == fingerprint, col(Alert.status) == AlertStatus.FIRING.value
        )
    ).scalar_one_or_none()
    if incident_id is None:
        return None
    try:
        transition(session, incident_id, Transition.ACKNOWLEDGE, actor=actor)
    except IllegalTransition as error:
        session.rollback()
        if not error.repeated:
            raise
    return incident_id


def add_note(session: Session, incident_id: int, text_: str, *, actor: str) -> TimelineEvent:
    incident = get_incident(session, incident_id, for_update=True)
    _touch(session, incident)
    event = TimelineEvent(
        incident_id=incident_id, kind=TimelineKind.NOTE, actor=actor, message=text_, data={}
    )
    session.add(event)
    session.commit()
    incidents_changed(session.get_bind())
    session.refresh(event)
    return event


def update_incident(
    session: Session, incident_id: int, updates: Mapping[str, Any], *, actor: str
) -> Incident:
    """Change the fields named in ``updates`` (title, severity, assignee) and record each."""
    incident = get_incident(session, incident_id, for_update=True)
    changed = False
    if "title" in updates and updates["title"] is not None and updates["title"] != incident.title:
        _record(
            session,
            incident,
            TimelineKind.TITLE_CHANGED,
            actor,
            f"Title changed to {updates['title']!r}",
            {"from": incident.title},
        )
        incident.title = updates["title"]
        changed = True
    if "severity" in updates and updates["severity"] is not None:
        new = Severity(updates["severity"])
        if new != incident.severity:
            _record(
                session,
                incident,
                TimelineKind.SEVERITY_CHANGED,
                actor,
                f"Severity changed from {incident.severity} to {new.value}",
                {"from": str(incident.severity), "to": new.value},
            )
            incident.severity = new
            changed = True
    if "assignee" in updates and updates["assignee"] != incident.assignee:
        who = updates["assignee"]
        _record(
            session,
            incident,
            TimelineKind.ASSIGNED,
            actor,
            f"Assigned to {who}" if who else "Unassigned",
            {"from": incident.assignee},
        )
        incident.assignee = who
        changed = True
    if changed:
        _touch(session, incident)
    session.commit()
    if changed:
        incidents_changed(session.get_bind())
    return incident
