"""process_definitions.called_bpmn: the BPMN files of the processes a matter's call activities call

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("called_bpmn", sa.JSON(), nullable=True))


def downgrade() -> None:
    # A plain ALTER (PostgreSQL, SQLite >= 3.35): a batch rebuild of process_definitions would break the
    # cases' foreign keys on SQLite.
    op.execute(sa.text("ALTER TABLE process_definitions DROP COLUMN called_bpmn"))
