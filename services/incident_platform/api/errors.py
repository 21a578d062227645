"""Errors in the same shape FastAPI gives validation failures, for checks that need the database."""

from fastapi import HTTPException, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel


def field_error(location: tuple[str | int, ...], message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": ["body", *location], "msg": message, "type": "value_error"}],
    )


def conflict(message: str, **details: object) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, {"message": message, **details})


def not_found(message: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, message)


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
