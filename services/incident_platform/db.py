"""Database engine, sessions, readiness and the mapping of outages to 503.

Every service shares one SQLAlchemy engine over psycopg 3. The pool is sized
small with a short acquire timeout and a pre-ping, so a database outage turns
into a quick :class:`DatabaseUnavailable` (served as 503 + Retry-After) instead
of a hang, and recovery needs no restart.
"""

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import psycopg
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, exc, text
from sqlmodel import Session

from incident_platform.metrics import instrument_pool
from incident_platform.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now; the caller should retry later."""


# Errors that mean "the database is not there", as opposed to a bug in a query.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,  # pool acquire timeout
    exc.InvalidatePoolError,
    # Raw driver errors reach us unwrapped from pool checkouts and raw connections.
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def is_outage(error: BaseException) -> bool:
    if isinstance(error, OUTAGE_ERRORS):
        return True
    return isinstance(error, exc.DBAPIError) and bool(error.connection_invalidated)


def make_engine(settings: Settings) -> Engine:
    return create_engine(
        str(settings.database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={
            "connect_timeout": settings.db_connect_timeout_seconds,
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
            "application_name": "incident-platform",
        },
    )


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    engine = make_engine(settings)
    instrument_pool(engine, settings.db_pool_size + settings.db_max_overflow)
    return engine


def session_scope() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "sqlalchemy.url",
        (database_url or str(get_settings().database_url)).replace("%", "%%"),
    )
    return config


@lru_cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()


def schema_status(engine: Engine) -> str | None:
    """None when the database answers and is migrated to head, else the reason it is not."""
    try:
        with engine.connect() as connection:
            current = connection.execute(
                text("SELECT version_num FROM alembic_version")
            ).scalar_one_or_none()
    except exc.ProgrammingError:
        return "database schema is not migrated (no alembic_version table)"
    except Exception as error:  # any failure to talk to the database means "not ready"
        return f"database unreachable: {type(error).__name__}"
    head = head_revision()
    if current != head:
        return f"database schema at {current}, expected {head}"
    return None


def migrate(database_url: str | None = None) -> None:
    """Upgrade the schema to head. Safe to run on every start and by several processes."""
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")


def libpq_url(url: str) -> str:
    """The same URL as libpq and psycopg spell it (without SQLAlchemy's driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)
