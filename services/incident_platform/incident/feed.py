"""The incident change feed: positions, and reading changes in position order without gaps.

Every change of an incident gives it a new ``change_seq`` (incident_change_position() in
SQL): the writing transaction's id plus a fixed offset, raised above the incident's previous
value. The feed serves incidents in ``(change_seq, id)`` order and only below the horizon
(incident_feed_horizon(): the oldest running transaction's id plus the same offset). Every
transaction below the horizon has ended and every writer still running writes at or above
it, so what is served never changes afterwards, and a reader that resumes after the last
position it saw misses nothing and sees nothing twice. Several incidents changed by one
transaction share a ``change_seq``; ``id`` orders them.

A long-running transaction anywhere on the PostgreSQL server holds the horizon back: changes
are delayed (never lost) until it ends.
"""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, func, select, text, tuple_
from sqlmodel import Session, col

from incident_platform.incident.models import PUBLIC_COLUMNS
from incident_platform.incident.tables import INCIDENTS, Incident

# The columns the API shows of an incident, as plain rows: what lists and the event stream
# read (ORM objects would be built, tracked and validated per row only to be written out).
PUBLIC_ROWS: Select[Any] = select(*(INCIDENTS.c[name] for name in PUBLIC_COLUMNS))

_LAST = 2**63 - 1


@dataclass(frozen=True, order=True)
class Position:
    """Just after the change of incident ``incident_id`` at ``change_seq``."""

    change_seq: int
    incident_id: int = _LAST  # after every incident of that change_seq

    def __str__(self) -> str:
        if self.incident_id == _LAST:
            return str(self.change_seq)
        return f"{self.change_seq}-{self.incident_id}"


class InvalidPosition(ValueError):
    pass


_POSITION = re.compile(r"(\d{1,18})(?:-(\d{1,18}))?")


def parse_position(value: str) -> Position:
    """``<change_seq>`` or ``<change_seq>-<incident_id>``, as this feed writes them."""
    match = _POSITION.fullmatch(value.strip())
    if match is None:
        raise InvalidPosition(f"{value!r} is not a position this feed wrote")
    change_seq, incident_id = match.groups()
    return Position(int(change_seq), int(incident_id) if incident_id else _LAST)


def newest_change(session: Session) -> int | None:
    """The highest ``change_seq`` committed, final or not (held back by the horizon)."""
    value = session.execute(select(func.max(col(Incident.change_seq)))).scalar_one_or_none()
    return None if value is None else int(value)


def horizon(session: Session) -> Position:
    """Everything before this position is final; a reader with no position starts here."""
    value = session.execute(text("SELECT incident_feed_horizon() - 1")).scalar_one()
    return Position(int(value))


def changes_after(
    session: Session | Connection,
    after: Position,
    *,
    limit: int,
    query: Select[Any] | None = None,
    below: Position | None = None,
) -> list[Row[Any]]:
    """Incidents whose latest change is after ``after`` and final, oldest change first
    (of those ``query`` selects, when given: the list filters; ``PUBLIC_ROWS`` otherwise).
    ``below``: a horizon read earlier, in place of this statement's own (it is final in any
    later snapshot too)."""
    bound = text("incident_feed_horizon()") if below is None else below.change_seq + 1
    base = PUBLIC_ROWS if query is None else query
    ordered = (
        base.where(
            # The first term alone is what the index on change_seq can walk.
            INCIDENTS.c.change_seq >= after.change_seq,
            tuple_(INCIDENTS.c.change_seq, INCIDENTS.c.id)
            > tuple_(after.change_seq, after.incident_id),
            INCIDENTS.c.change_seq < bound,
        )
        .order_by(INCIDENTS.c.change_seq, INCIDENTS.c.id)
        .limit(limit)
    )
    return list(session.execute(ordered).all())


def changed_since(
    query: Select[Any], session: Session | Connection, change_seq: int, *, limit: int
) -> list[Row[Any]]:
    """The ``changed_after`` page: like ``changes_after``, but never ending inside a
    ``change_seq`` (a client resumes with ``changed_after=<the last one>``), so a page may
    hold more than ``limit`` incidents when one transaction changed many."""
    page = changes_after(session, Position(change_seq), limit=limit, query=query)
    if len(page) < limit:
        return page
    last_change, last_id = page[-1].change_seq, page[-1].id
    same_change = query.where(INCIDENTS.c.change_seq == last_change)
    rest = changes_after(session, Position(last_change, last_id), limit=10_000, query=same_change)
    return page + rest
