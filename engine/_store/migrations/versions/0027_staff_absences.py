"""staff_absences: AB岗, a staff member's absence and the colleague who covers it

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from onewindow.engine._store.migrations.refusals import refuse_pending_sms, refuse_unrendered_documents

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_absences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("backup", sa.String(64), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("handed_over_at", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("ended_by", sa.String(64), nullable=True),
        sa.CheckConstraint("ends_on >= starts_on", name="ck_staff_absences_days"),
        sa.CheckConstraint("backup <> username", name="ck_staff_absences_backup"),
    )
    op.create_index("ix_staff_absences_username", "staff_absences", ["username", "ends_on"])
    op.create_index("ix_staff_absences_due", "staff_absences", ["handed_over_at", "starts_on"])


def downgrade() -> None:
    target = context.get_revision_argument()
    # Below 0026 the refusals of 0025 and 0023 come first, so that a refused downgrade changes nothing.
    if target not in ("0026", "0025"):
        refuse_pending_sms(op.get_bind())
        if target not in ("0024", "0018", "0023"):
            refuse_unrendered_documents(op.get_bind())
    # The handed-over steps stay with whoever covers them: only the record of the absences goes.
    op.drop_index("ix_staff_absences_due", table_name="staff_absences")
    op.drop_index("ix_staff_absences_username", table_name="staff_absences")
    op.drop_table("staff_absences")
