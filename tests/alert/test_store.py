"""Reading stored alerts: newest first, filtered by service and status, paged by cursor
without gaps or repeats, and a bad cursor refused."""

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from incident_platform.alert.correlation import AlertStatus
from incident_platform.alert.store import list_alerts
from incident_platform.paging import InvalidCursor


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def post(
    ingest: httpx.Client, auth: dict[str, str], service: str, summary: str, status: str
) -> int:
    body = {"service": service, "summary": summary, "status": status, "fingerprint": summary}
    response = ingest.post("/api/v1/alerts", json=body, headers=auth)
    assert response.status_code == 202, response.text
    return int(response.json()["alert_id"])


def test_pages_are_newest_first_and_a_cursor_continues_without_gaps_or_repeats(
    session: Session, ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    ids = [post(ingest, generic_auth, "checkout", f"a{n}", "firing") for n in range(5)]

    first, cursor = list_alerts(session, service=None, status=None, limit=2, cursor=None)
    second, cursor2 = list_alerts(session, service=None, status=None, limit=2, cursor=cursor)
    last, end = list_alerts(session, service=None, status=None, limit=2, cursor=cursor2)

    pages = [[alert.id for alert in page] for page in (first, second, last)]
    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[:1]]
    assert end is None


def test_an_exact_last_page_has_no_next_cursor(
    session: Session, ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    for n in range(2):
        post(ingest, generic_auth, "checkout", f"a{n}", "firing")

    page, cursor = list_alerts(session, service=None, status=None, limit=2, cursor=None)

    assert len(page) == 2
    assert cursor is None


def test_filters_by_service_and_status(
    session: Session, ingest: httpx.Client, generic_auth: dict[str, str]
) -> None:
    firing = post(ingest, generic_auth, "checkout", "c-firing", "firing")
    post(ingest, generic_auth, "search", "s-firing", "firing")
    post(ingest, generic_auth, "checkout", "c-gone", "firing")
    resolved = post(ingest, generic_auth, "checkout", "c-gone", "resolved")

    def ids(service: str | None, status: AlertStatus | None) -> list[int | None]:
        page, _ = list_alerts(session, service=service, status=status, limit=10, cursor=None)
        return [alert.id for alert in page]

    assert ids("checkout", AlertStatus.FIRING) == [firing]
    assert ids("checkout", AlertStatus.RESOLVED) == [resolved]
    assert ids("nothing-here", None) == []
    assert len(ids(None, None)) == 3


def test_a_cursor_that_is_not_one_of_ours_is_refused(session: Session) -> None:
    with pytest.raises(InvalidCursor):
        list_alerts(session, service=None, status=None, limit=10, cursor="not-a-cursor")
