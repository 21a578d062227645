"""Errors in the same shape FastAPI gives validation failures, for checks that need the database."""

from fastapi import HTTPException, status


def field_error(location: tuple[str | int, ...], message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": ["body", *location], "msg": message, "type": "value_error"}],
    )


def conflict(message: str, **details: object) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, {"message": message, **details})


def not_found(message: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, message)
