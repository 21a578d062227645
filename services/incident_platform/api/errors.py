"""Errors in the same shape FastAPI gives validation failures, for checks that need the database."""

from typing import Any

from fastapi import HTTPException, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel


def field_error(location: tuple[str | int, ...], message: str) -> HTTPException:
    return invalid(("body", *location), message)


def query_error(name: str, message: str) -> HTTPException:
    return invalid(("query", name), message)


def invalid(location: tuple[str | int, ...], message: str) -> HTTPException:
    """A 422 in FastAPI's own validation shape, so clients parse every 422 alike."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": list(location), "msg": message, "type": "value_error"}],
    )


def conflict(message: str, **details: object) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, {"message": message, **details})


def not_found(message: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, message)


def encodable(value: Any) -> Any:
    """``value`` with lone surrogates spelled out (``\\ud800``), so it can be sent as UTF-8:
    a validation error echoes the refused input, and JSON input may hold them."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {encodable(key): encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(item) for item in value]
    return value


def commit_unique(session: Session, row: SQLModel, field: str, message: str) -> None:
    """Commits; a unique-constraint violation becomes a 422 on ``field``, nothing written.

    The constraint, not a prior lookup, decides: two concurrent creates cannot both win.
    """
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise field_error((field,), message) from error
    session.refresh(row)
