"""Initial schema: integrations, API tokens, incidents, alerts, timeline.

Revision ID: 20261126_1600
Revises:
Create Date: 2026-11-26 16:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261126_1600"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEVERITIES = "('info', 'warning', 'high', 'critical')"


def _timestamp(name: str, *, nullable: bool = False, default_now: bool = True) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=sa.func.now() if default_now else None,
    )


def upgrade() -> None:
    op.execute("CREATE SEQUENCE incident_change_seq")

    op.create_table(
        "integrations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("default_service", sa.String(255), nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(32), nullable=False),
        _timestamp("created_at"),
        _timestamp("revoked_at", nullable=True, default_now=False),
        sa.CheckConstraint(
            "kind IN ('generic', 'alertmanager', 'pagerduty')", name="ck_integrations_kind"
        ),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("token_prefix", sa.String(32), nullable=False),
        _timestamp("created_at"),
        _timestamp("revoked_at", nullable=True, default_now=False),
        sa.CheckConstraint("role IN ('viewer', 'responder', 'admin')", name="ck_api_tokens_role"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("title", sa.String(1024), nullable=False),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(255), nullable=True),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column(
            "change_seq",
            sa.BigInteger(),
            nullable=False,
            server_default=sa.text("nextval('incident_change_seq')"),
        ),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("acknowledged_at", nullable=True, default_now=False),
        _timestamp("resolved_at", nullable=True, default_now=False),
        sa.CheckConstraint(f"severity IN {SEVERITIES}", name="ck_incidents_severity"),
        sa.CheckConstraint(
            "status IN ('triggered', 'acknowledged', 'resolved')", name="ck_incidents_status"
        ),
    )
    op.create_index(
        "ux_incidents_open_service",
        "incidents",
        ["service"],
        unique=True,
        postgresql_where=sa.text("status IN ('triggered', 'acknowledged')"),
    )
    op.create_index("ix_incidents_status_id", "incidents", ["status", "id"])
    op.create_index("ix_incidents_service_id", "incidents", ["service", "id"])
    op.create_index("ix_incidents_change_seq", "incidents", ["change_seq"])
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.BigInteger(),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "integration_id",
            sa.Uuid(),
            sa.ForeignKey("integrations.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("summary", sa.String(1024), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("source", sa.String(255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(255), nullable=False),
        sa.Column(
            "labels", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        sa.Column(
            "annotations",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        _timestamp("starts_at", nullable=True, default_now=False),
        _timestamp("ends_at", nullable=True, default_now=False),
        _timestamp("created_at"),
        _timestamp("last_seen_at"),
        _timestamp("resolved_at", nullable=True, default_now=False),
        sa.CheckConstraint(f"severity IN {SEVERITIES}", name="ck_alerts_severity"),
        sa.CheckConstraint("status IN ('firing', 'resolved')", name="ck_alerts_status"),
    )
    op.create_index(
        "ux_alerts_firing_fingerprint",
        "alerts",
        ["fingerprint"],
        unique=True,
        postgresql_where=sa.text("status = 'firing'"),
    )
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id"])
    op.create_index(
        "ix_alerts_firing_incident_id",
        "alerts",
        ["incident_id"],
        postgresql_where=sa.text("status = 'firing'"),
    )
    op.create_index("ix_alerts_service_id", "alerts", ["service", "id"])
    op.create_index("ix_alerts_status_id", "alerts", ["status", "id"])

    op.create_table(
        "timeline_events",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.BigInteger(),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _timestamp("at"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "data", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
    )
    op.create_index("ix_timeline_events_incident_id_id", "timeline_events", ["incident_id", "id"])


def downgrade() -> None:
    op.drop_table("timeline_events")
    op.drop_table("alerts")
    op.drop_table("incidents")
    op.drop_table("api_tokens")
    op.drop_table("integrations")
    op.execute("DROP SEQUENCE incident_change_seq")
