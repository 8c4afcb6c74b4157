"""applicant_messages (the hall's 消息盒子 and the applicants' SMS), applicants.sms_opt_out, and an index of
online applications by case (whose case a notification is for)

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from onewindow.engine._store.migrations.refusals import refuse_pending_sms, refuse_unrendered_documents

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "applicant_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_no", sa.String(32), nullable=False),
        sa.Column("applicant_id", sa.Integer(), sa.ForeignKey("applicants.id", ondelete="SET NULL"), nullable=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("read_at", WHEN, nullable=True),
        sa.Column("sms", sa.String(16), nullable=False),
        sa.Column("sms_to", sa.String(11), nullable=False),
        sa.Column("outbox_id", sa.String(36), nullable=True),
        sa.UniqueConstraint("case_id", "key", name="uq_applicant_messages_case_key"),
    )
    op.create_index("ix_applicant_messages_box", "applicant_messages", ["applicant_id", "read_at"])
    # Plain ALTER TABLE … ADD COLUMN (see 0008, 0018): every existing account keeps its SMS on.
    op.add_column("applicants", sa.Column("sms_opt_out", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_online_applications_case", "online_applications", ["case_id"])


def downgrade() -> None:
    bind = op.get_bind()
    # An older release has no SMS gateway: SMS still waiting in the outbox would never be sent. Refuse first,
    # and below 0023 refuse as 0024 does while an issued document waits to be rendered, so that a refused
    # downgrade changes nothing.
    refuse_pending_sms(bind)
    if context.get_revision_argument() not in ("0024", "0018", "0023"):
        refuse_unrendered_documents(bind)
    op.drop_index("ix_online_applications_case", table_name="online_applications")
    op.execute(sa.text("ALTER TABLE applicants DROP COLUMN sms_opt_out"))
    op.drop_index("ix_applicant_messages_box", table_name="applicant_messages")
    op.drop_table("applicant_messages")
