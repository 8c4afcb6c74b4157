"""patterns: the intermediary register (网上中介), their services on cases, 多评合一 commissions, 会审 meetings

Revision ID: 0020
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "intermediaries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False, unique=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("contact_person", sa.String(64), nullable=False),
        sa.Column("contact_phone", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("suspended_reason", sa.String(500), nullable=True),
        sa.Column("suspended_at", WHEN, nullable=True),
        sa.Column("suspended_by", sa.String(64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.CheckConstraint("state IN ('active', 'suspended')", name="ck_intermediaries_state"),
    )
    op.create_table(
        "intermediary_qualifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "intermediary_id", sa.Integer(), sa.ForeignKey("intermediaries.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
    )
    op.create_index("ix_intermediary_qualifications_service", "intermediary_qualifications", ["service", "expires_on"])
    op.create_table(
        "intermediary_services",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("case_no", sa.String(32), nullable=False),
        sa.Column("intermediary_id", sa.Integer(), sa.ForeignKey("intermediaries.id"), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("selected_at", WHEN, nullable=False),
        sa.Column("selected_by", sa.String(64), nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.String(500), nullable=True),
        sa.Column("rated_at", WHEN, nullable=True),
        sa.Column("rated_by", sa.String(64), nullable=True),
        sa.CheckConstraint("method IN ('draw', 'applicant')", name="ck_intermediary_services_method"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_intermediary_services_rating"),
    )
    op.create_index("ix_intermediary_services_case_no", "intermediary_services", ["case_no"])
    op.create_index("ix_intermediary_services_intermediary_id", "intermediary_services", ["intermediary_id"])
    op.create_index("ix_intermediary_services_open", "intermediary_services", ["delivered_at", "due_at"])
    op.create_table(
        "joint_evaluations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("case_no", sa.String(32), nullable=False),
        sa.Column("assessments", sa.JSON(), nullable=False),
        sa.Column("basis", sa.String(500), nullable=False),
        sa.Column("limit_text", sa.String(64), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("review_date", sa.String(10), nullable=True),
        sa.Column("experts", sa.String(500), nullable=True),
        sa.Column("opinion", sa.String(16), nullable=True),
        sa.Column("opinion_text", sa.String(2000), nullable=True),
    )
    op.create_index("ix_joint_evaluations_case_no", "joint_evaluations", ["case_no"])
    op.create_table(
        "joint_meetings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("case_no", sa.String(32), nullable=False),
        sa.Column("lead_section", sa.String(32), nullable=False),
        sa.Column("meeting_date", sa.String(10), nullable=False),
        sa.Column("invited", sa.JSON(), nullable=False),
        sa.Column("convened_at", WHEN, nullable=False),
        sa.Column("convened_by", sa.String(64), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("opinions", sa.JSON(), nullable=False),
        sa.Column("minutes_file_id", sa.Integer(), nullable=True),
        sa.Column("followups", sa.JSON(), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_joint_meetings_case_no", "joint_meetings", ["case_no"])


def downgrade() -> None:
    op.drop_table("joint_meetings")
    op.drop_table("joint_evaluations")
    op.drop_table("intermediary_services")
    op.drop_table("intermediary_qualifications")
    op.drop_table("intermediaries")
