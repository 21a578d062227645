"""An index on the flapping histories by incident.

Every round that records alert state changes asks, per incident it touches, whether
another alert of that incident still flaps (``flapping.store.RECORD_FLAPS``). Without
an index that was a sequential scan of ``alert_flaps`` (one row per fingerprint ever
seen) per incident: 61% of PostgreSQL's time in the bench row of new incidents, and
growing with the table. Only flapping histories are indexed: they are few, and the
others are never looked up by incident.

Revision ID: 20261202_0815
Revises: 20261202_0430
Create Date: 2026-12-02 08:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0815"
down_revision: str | None = "20261202_0430"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_alert_flaps_flapping_incident_id",
        "alert_flaps",
        ["incident_id"],
        postgresql_where=sa.text("flapping"),
    )


def downgrade() -> None:
    op.drop_index("ix_alert_flaps_flapping_incident_id", table_name="alert_flaps")
