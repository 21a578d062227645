"""Keyset paging, newest first, for the list endpoints: deep pages cost what the first does.

The cursor is opaque to clients: the last id of the page, base64-encoded.
"""

import base64
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Connection, Select
from sqlalchemy import Row as ResultRow
from sqlalchemy.orm import Mapped
from sqlmodel import Session

from incident_platform.storable import MAX_BIGINT


class _Identified(Protocol):
    id: int | None


Row = TypeVar("Row", bound=_Identified)


class InvalidCursor(ValueError):
    pass


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, value = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if kind != "id":
            raise ValueError(kind)
        position = int(value)
        if not 1 <= position <= MAX_BIGINT:
            raise ValueError(value)
        return position
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor("cursor is not one this API returned") from error


def newest_first_page(
    session: Session,
    query: Select[Row],
    id_column: Mapped[int | None],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row], str | None]:
    """One page of ``query`` by descending ``id_column`` after ``cursor``, and the next
    page's cursor (None on the last page); raises :class:`InvalidCursor`."""
    rows = list(session.execute(_page(query, id_column, limit, cursor)).scalars())
    next_cursor = encode_cursor(rows[limit - 1].id or 0) if len(rows) > limit else None
    return rows[:limit], next_cursor


def newest_first_rows(
    session: Session | Connection,
    query: Select[Any],
    id_column: ColumnElement[int],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[ResultRow[Any]], str | None]:
    """:func:`newest_first_page` of a query of columns: plain rows, no ORM objects, for
    pages that are only read and shown."""
    rows = list(session.execute(_page(query, id_column, limit, cursor)).all())
    next_cursor = encode_cursor(rows[limit - 1]._mapping[id_column]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _page(
    query: Select[Any],
    id_column: Mapped[int | None] | ColumnElement[int],
    limit: int,
    cursor: str | None,
) -> Select[Any]:
    if cursor is not None:
        query = query.where(id_column < decode_cursor(cursor))
    return query.order_by(id_column.desc()).limit(limit + 1)
