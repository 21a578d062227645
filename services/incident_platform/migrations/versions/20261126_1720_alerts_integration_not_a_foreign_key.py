"""Alerts: integration_id is a plain column, not a foreign key.

Every alert insert's foreign-key check locked the sending integration's row
(KEY SHARE); all concurrent ingestion transactions of one sender contended on it.

Revision ID: 20261126_1720
Revises: 20261126_1625
Create Date: 2026-11-26 17:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261126_1720"
down_revision: str | None = "20261126_1625"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("alerts_integration_id_fkey", "alerts", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key(
        "alerts_integration_id_fkey",
        "alerts",
        "integrations",
        ["integration_id"],
        ["id"],
        ondelete="SET NULL",
    )
