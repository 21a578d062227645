"""Keyset pagination stays an index walk at 100k incidents: checked on the query plan."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, event
from sqlmodel import Session

from incident_platform.incident.lifecycle import IncidentStatus
from incident_platform.incident.store import IncidentFilter, list_incidents
from incident_platform.paging import encode_cursor
from support.database import connect


@pytest.fixture(scope="module")
def hundred_thousand_incidents(database_url: str) -> Iterator[str]:
    with connect(database_url) as connection:
        connection.execute("TRUNCATE alerts, timeline_events, incidents RESTART IDENTITY CASCADE")
        connection.execute(
            """
            INSERT INTO incidents (title, service, severity, status, alert_count, created_at)
            SELECT 'incident ' || n, 'svc-' || (n % 500), 'warning',
                   CASE WHEN n > 99500 THEN 'triggered' ELSE 'resolved' END, 1,
                   now() - make_interval(secs => 100000 - n)
              FROM generate_series(1, 100000) AS n
            """
        )
        connection.execute("ANALYZE incidents")
    yield database_url
    with connect(database_url) as connection:
        connection.execute("TRUNCATE alerts, timeline_events, incidents RESTART IDENTITY CASCADE")


def _plan(database_url: str, filters: IncidentFilter, cursor: str | None) -> str:
    """EXPLAIN of exactly the statement list_incidents sends."""
    engine = create_engine(database_url)
    captured: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        statement, parameters = args[2], args[3]
        if "FROM incidents" in statement:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    with Session(engine) as session:
        rows, _ = list_incidents(session, filters, limit=50, cursor=cursor)
        assert len(rows) == 50
    engine.dispose()
    assert captured, "list_incidents ran no SELECT on incidents"
    statement, parameters = captured[-1]
    with connect(database_url) as connection:
        plan = connection.execute("EXPLAIN " + statement, parameters).fetchall()
    return "\n".join(str(row[0]) for row in plan)


@pytest.mark.parametrize(
    "filters",
    [
        IncidentFilter(),
        IncidentFilter(status=IncidentStatus.RESOLVED),
        IncidentFilter(service="svc-7"),
    ],
    ids=["all", "by-status", "by-service"],
)
def test_deep_page_is_an_index_walk_not_a_sort(
    hundred_thousand_incidents: str, filters: IncidentFilter
) -> None:
    plan = _plan(hundred_thousand_incidents, filters, encode_cursor(90_000))
    assert "Index Scan Backward" in plan, plan
    assert "Sort" not in plan, plan
    assert "Seq Scan" not in plan, plan
