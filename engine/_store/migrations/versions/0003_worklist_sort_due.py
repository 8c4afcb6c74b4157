"""worklist order on the task's own index: tasks.sort_due (the case's committed due date, copied)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_due", sa.DateTime(timezone=True), nullable=True))
    tasks = sa.table("tasks", sa.column("case_id"), sa.column("sort_due", sa.DateTime(timezone=True)))
    cases = sa.table("cases", sa.column("id"), sa.column("committed_due_at", sa.DateTime(timezone=True)))
    due = sa.select(cases.c.committed_due_at).where(cases.c.id == tasks.c.case_id).scalar_subquery()
    op.execute(
        tasks.update().values(sort_due=sa.func.coalesce(due, sa.literal(NO_DUE_DATE, sa.DateTime(timezone=True))))
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.alter_column("sort_due", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_index("ix_tasks_section_state_created")
        batch_op.create_index(
            "ix_tasks_worklist", ["section_code", "state", "sort_due", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_worklist")
        batch_op.create_index("ix_tasks_section_state_created", ["section_code", "state", "created_at"], unique=False)
        batch_op.drop_column("sort_due")
