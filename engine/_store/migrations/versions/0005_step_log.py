"""per-step log: events.version and events.state_delta; cases.state_version (the snapshot's version)

A running case is rebuilt from its snapshot (cases.state) plus the changes recorded in its history after
the snapshot. Existing cases keep their stored state as their snapshot at their current version, so
they run on unchanged after the upgrade.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch "recreate" of cases would drop the table on SQLite, and with foreign keys
    # on, its tasks and events would go with it (ON DELETE CASCADE).
    op.add_column("events", sa.Column("version", sa.Integer(), nullable=True))
    op.add_column("events", sa.Column("state_delta", sa.LargeBinary(), nullable=True))
    op.add_column("cases", sa.Column("state_version", sa.Integer(), nullable=False, server_default="0"))
    cases = sa.table("cases", sa.column("version", sa.Integer()), sa.column("state_version", sa.Integer()))
    op.execute(cases.update().values(state_version=cases.c.version))


def downgrade() -> None:
    """Fold each case's log into its snapshot, so the full-state layout of 0004 holds every running case."""
    from onewindow.engine._store.serialization import fold_log

    conn = op.get_bind()
    cases = conn.execute(sa.text("SELECT id, state, state_version FROM cases")).all()
    for case_id, state, state_version in cases:
        changes = conn.execute(
            sa.text(
                "SELECT state_delta FROM events WHERE case_id = :c AND state_delta IS NOT NULL AND version > :v"
                " ORDER BY id"
            ),
            {"c": case_id, "v": state_version},
        ).scalars()
        blobs = [bytes(b) for b in changes]
        if blobs and state is not None:
            conn.execute(
                sa.text("UPDATE cases SET state = :s WHERE id = :c"), {"s": fold_log(bytes(state), blobs), "c": case_id}
            )
    op.drop_column("cases", "state_version")
    op.drop_column("events", "state_delta")
    op.drop_column("events", "version")
