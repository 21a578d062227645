"""Escalations remember failures: how many in a row, and the last reason.

An incident whose escalation cannot be evaluated (a broken policy, schedule or
override) is retried with backoff on its own, while every other incident is paged
on time; the count drives the backoff and the reason is shown on the timeline.

Revision ID: 20261201_2200
Revises: 20261126_1720
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_2200"
down_revision: str | None = "20261126_1720"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "escalations",
        sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("escalations", sa.Column("last_error", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("escalations", "last_error")
    op.drop_column("escalations", "failures")
