"""Grouping rules and flap detection.

The one-open-incident guarantee moves from the service to the group key: an incident's
``group_key`` is ``service:<name>`` (backfilled for every existing incident, and filled
in by a trigger when an insert leaves it out) unless a grouping rule grouped it. An
incident a rule's time window closed on stops taking alerts (``accepts_alerts``) and
leaves the unique index, so its group can open a new one. ``alert_flaps`` keeps each
fingerprint's recent states for flap detection.

Revision ID: 20261202_0430
Revises: 20261201_2300
Create Date: 2026-12-02 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0430"
down_revision: str | None = "20261201_2300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('triggered', 'acknowledged')"


def upgrade() -> None:
    op.create_table(
        "grouping_rules",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("matchers", postgresql.JSONB(), nullable=False),
        sa.Column("group_by", postgresql.JSONB(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.add_column("incidents", sa.Column("group_key", sa.Text(), nullable=True))
    op.add_column("incidents", sa.Column("grouping_rule", sa.String(128), nullable=True))
    op.add_column(
        "incidents",
        sa.Column("accepts_alerts", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    )
    op.add_column(
        "incidents",
        sa.Column("flapping", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.execute("UPDATE incidents SET group_key = 'service:' || service")
    op.alter_column("incidents", "group_key", existing_type=sa.Text(), nullable=False)
    # Writers that predate grouping (and manual SQL) insert without a key: theirs is the
    # service's. NOT NULL is checked after BEFORE triggers, so the trigger can fill it.
    op.execute(
        """
CREATE FUNCTION incident_default_group_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.group_key IS NULL THEN
        NEW.group_key := 'service:' || NEW.service;
    END IF;
    RETURN NEW;
END $$
"""
    )
    op.execute(
        "CREATE TRIGGER incidents_default_group_key BEFORE INSERT ON incidents"
        " FOR EACH ROW EXECUTE FUNCTION incident_default_group_key()"
    )
    op.create_index(
        "ux_incidents_open_group_key",
        "incidents",
        ["group_key"],
        unique=True,
        postgresql_where=sa.text(f"{OPEN} AND accepts_alerts"),
    )
    op.drop_index("ux_incidents_open_service", table_name="incidents")
    op.create_table(
        "alert_flaps",
        sa.Column("fingerprint", sa.Text(), primary_key=True),
        sa.Column("states", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column(
            "incident_id",
            sa.BigInteger(),
            sa.ForeignKey("incidents.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_alert_flaps_flapping",
        "alert_flaps",
        ["sampled_at"],
        postgresql_where=sa.text("flapping"),
    )


def downgrade() -> None:
    op.drop_index("ix_alert_flaps_flapping", table_name="alert_flaps")
    op.drop_table("alert_flaps")
    # Back to one open incident per service: rule groups that share a service are closed.
    op.execute(
        f"""
UPDATE incidents SET status = 'resolved', resolved_at = coalesce(resolved_at, now())
 WHERE {OPEN} AND id NOT IN (
     SELECT DISTINCT ON (service) id FROM incidents WHERE {OPEN} ORDER BY service, id DESC
 )
"""
    )
    op.create_index(
        "ux_incidents_open_service",
        "incidents",
        ["service"],
        unique=True,
        postgresql_where=sa.text(OPEN),
    )
    op.drop_index("ux_incidents_open_group_key", table_name="incidents")
    op.execute("DROP TRIGGER incidents_default_group_key ON incidents")
    op.execute("DROP FUNCTION incident_default_group_key()")
    op.drop_column("incidents", "flapping")
    op.drop_column("incidents", "accepts_alerts")
    op.drop_column("incidents", "grouping_rule")
    op.drop_column("incidents", "group_key")
    op.drop_table("grouping_rules")
