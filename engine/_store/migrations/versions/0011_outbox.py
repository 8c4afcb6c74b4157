"""outbox: messages to supervising departments (审管信息共享); a supervisor's department; their feedback

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="SET NULL"), nullable=True),
        sa.Column("case_no", sa.String(32), nullable=False),
        sa.Column("department_code", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("lease_until", WHEN, nullable=True),
        sa.Column("leased_by", sa.String(100), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("ack_due_at", WHEN, nullable=False),
        sa.Column("acknowledged_at", WHEN, nullable=True),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox_messages", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_department", "outbox_messages", ["department_code", "state", "acknowledged_at"])
    op.create_index("ix_outbox_messages_case_id", "outbox_messages", ["case_id"])
    op.create_table(
        "supervision_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("department_code", sa.String(32), nullable=False),
        sa.Column("idem_key", sa.String(100), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("correction_case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="SET NULL"), nullable=True),
        sa.Column("flaw", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("reported_by", sa.String(100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.UniqueConstraint("department_code", "idem_key"),
    )
    op.create_index("ix_supervision_feedback_case_id", "supervision_feedback", ["case_id"])
    # A plain ADD COLUMN (no batch copy of users: on SQLite that would drop the table its sections cascade from).
    op.add_column("users", sa.Column("department_code", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "department_code")
    op.drop_index("ix_supervision_feedback_case_id", table_name="supervision_feedback")
    op.drop_table("supervision_feedback")
    op.drop_index("ix_outbox_messages_case_id", table_name="outbox_messages")
    op.drop_index("ix_outbox_department", table_name="outbox_messages")
    op.drop_index("ix_outbox_due", table_name="outbox_messages")
    op.drop_table("outbox_messages")
