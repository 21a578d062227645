"""Change-feed positions that commit in order: derived from transaction ids.

A position taken from a sequence can commit after a higher one has been read, and a follower
that moved past the higher one never saw it. Positions now come from the writing
transaction's id (``pg_current_xact_id()``, plus a fixed offset so that they stay above
every position already handed out), and readers serve only positions below the horizon
``pg_snapshot_xmin(pg_current_snapshot())`` (plus the offset): every transaction with an
id below it has ended, and every writer still running or yet to start writes a position at
or above it. So a position below the horizon is final, and a follower that reads in
position order never skips one. ``greatest(..., change_seq + 1)`` in the writers keeps an
incident's own positions increasing.

(No NOTIFY trigger: a transaction that notifies takes a cluster-wide lock through its
commit, which cut concurrent commits from ~2,500/s to ~430/s here. The writers' processes
notify after their commits instead, coalesced: incident/notify.py.)

Revision ID: 20261201_2210
Revises: 20261201_2200
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_2210"
down_revision: str | None = "20261201_2200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    highest = bind.execute(
        sa.text(
            "SELECT greatest((SELECT last_value FROM incident_change_seq),"
            " (SELECT coalesce(max(change_seq), 0) FROM incidents))"
        )
    ).scalar_one()
    offset = int(highest) + 1
    op.execute(
        f"""
        CREATE FUNCTION incident_change_position() RETURNS bigint
        LANGUAGE sql VOLATILE PARALLEL UNSAFE
        AS $$ SELECT pg_current_xact_id()::text::bigint + {offset} $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION incident_feed_horizon() RETURNS bigint
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$ SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint + {offset} $$
        """
    )
    op.execute(
        "ALTER TABLE incidents ALTER COLUMN change_seq SET DEFAULT incident_change_position()"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE incidents ALTER COLUMN change_seq SET DEFAULT nextval('incident_change_seq')"
    )
    # The sequence continues above every position handed out meanwhile.
    op.execute(
        "SELECT setval('incident_change_seq',"
        " greatest((SELECT coalesce(max(change_seq), 1) FROM incidents),"
        " (SELECT last_value FROM incident_change_seq)))"
    )
    op.execute("DROP FUNCTION incident_feed_horizon()")
    op.execute("DROP FUNCTION incident_change_position()")
