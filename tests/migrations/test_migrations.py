"""Alembic owns the schema: the migrations build exactly what the models describe."""

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from incident_platform.db import alembic_config, head_revision, migrate, schema_status
from incident_platform.devtools.devdb import create_database, drop_database
from incident_platform.models import metadata


@pytest.fixture
def empty_database(postgres_server: str) -> Iterator[str]:
    url = create_database(postgres_server, "ipt_migrations")
    yield url
    drop_database(postgres_server, url)


def test_upgrade_to_head_matches_the_models(empty_database: str) -> None:
    migrate(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert schema_status(engine) is None
    engine.dispose()
    assert differences == []


def test_downgrade_to_base_and_up_again(empty_database: str) -> None:
    migrate(empty_database)
    config = alembic_config(empty_database)
    command.downgrade(config, "base")
    engine = create_engine(empty_database)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
    migrate(empty_database)
    engine = create_engine(empty_database)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    assert schema_status(engine) is None
    engine.dispose()


def test_head_is_a_single_timestamped_revision() -> None:
    head = head_revision()
    assert head is not None
    assert head[:8].isdigit()
