"""Silences, and the alerts they muted.

A silenced alert is stored without an incident (``incident_id`` NULL) and names the
silence that muted it; when that silence ends, the alert is correlated then. The
check keeps every alert attached to one or the other.

Revision ID: 20261201_2300
Revises: 20261201_2210
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_2300"
down_revision: str | None = "20261201_2210"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "silences",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("matchers", postgresql.JSONB(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("ends_at >= starts_at", name="ck_silences_ends_after_start"),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])
    op.alter_column("alerts", "incident_id", existing_type=sa.BigInteger(), nullable=True)
    op.add_column(
        "alerts",
        sa.Column(
            "silence_id",
            sa.Uuid(),
            sa.ForeignKey("silences.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_check_constraint(
        "ck_alerts_incident_or_silence",
        "alerts",
        "incident_id IS NOT NULL OR silence_id IS NOT NULL OR status = 'resolved'",
    )
    # What the release sweep looks for: firing alerts still held by a silence.
    op.create_index(
        "ix_alerts_muted_silence_id",
        "alerts",
        ["silence_id"],
        postgresql_where=sa.text("status = 'firing' AND incident_id IS NULL"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE incident_id IS NULL")
    op.drop_index("ix_alerts_muted_silence_id", table_name="alerts")
    op.drop_constraint("ck_alerts_incident_or_silence", "alerts", type_="check")
    op.drop_column("alerts", "silence_id")
    op.alter_column("alerts", "incident_id", existing_type=sa.BigInteger(), nullable=False)
    op.drop_index("ix_silences_ends_at", table_name="silences")
    op.drop_table("silences")
