"""Reading stored alerts. Writing them is ``alert.ingest``'s (set-based, a batch at a time)."""

from sqlalchemy import select
from sqlmodel import Session, col

from incident_platform.alert.correlation import AlertStatus
from incident_platform.alert.tables import Alert
from incident_platform.paging import newest_first_page


def list_alerts(
    session: Session,
    *,
    service: str | None,
    status: AlertStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Alert], str | None]:
    """Newest first, keyset-paginated on id; raises ``paging.InvalidCursor``."""
    query = select(Alert)
    if service is not None:
        query = query.where(col(Alert.service) == service)
    if status is not None:
        query = query.where(col(Alert.status) == status.value)
    return newest_first_page(session, query, col(Alert.id), limit=limit, cursor=cursor)
