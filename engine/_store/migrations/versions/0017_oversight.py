"""oversight: the 稽核 sample and its checklist, findings and their 整改 cases, 追责 sanctions, 96166 records

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_samples",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("case_no", sa.String(32), nullable=False),
        sa.Column("section_code", sa.String(32), nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("rate_percent", sa.Float(), nullable=False),
        sa.Column("drawn_at", WHEN, nullable=False),
        sa.Column("drawn_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("month", "case_id", name="uq_audit_samples_month_case"),
    )
    op.create_index("ix_audit_samples_month", "audit_samples", ["month"])
    op.create_table(
        "audit_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sample_id", sa.Integer(), sa.ForeignKey("audit_samples.id"), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.UniqueConstraint("sample_id", "item", name="uq_audit_checks_sample_item"),
        sa.CheckConstraint("result IN ('pass', 'finding')", name="ck_audit_checks_result"),
    )
    op.create_table(
        "audit_findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("case_no", sa.String(32), nullable=False),
        sa.Column("section_code", sa.String(32), nullable=False),
        sa.Column("clerk", sa.String(64), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("auditor", sa.String(64), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("rectification_case_no", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(2000), nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.CheckConstraint("state IN ('rectifying', 'answered', 'accepted')", name="ck_audit_findings_state"),
    )
    op.create_index("ix_audit_findings_at", "audit_findings", ["at"])
    op.create_index("ix_audit_findings_case_no", "audit_findings", ["case_no"])
    op.create_index("ix_audit_findings_rectification_case_no", "audit_findings", ["rectification_case_no"])
    op.create_table(
        "sanctions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("audit_findings.id"), nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("level_rank", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("at", WHEN, nullable=False),
    )
    op.create_index("ix_sanctions_at", "sanctions", ["at"])
    op.create_index("ix_sanctions_person", "sanctions", ["person"])
    op.create_table(
        "hotline_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("caller", sa.String(100), nullable=False),
        sa.Column("matter", sa.String(100), nullable=True),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("case_no", sa.String(32), nullable=True),
        sa.Column("window", sa.String(32), nullable=True),
        sa.Column("clerk", sa.String(64), nullable=True),
        sa.Column("section_code", sa.String(32), nullable=True),
        sa.Column("applicant_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("assigned_to", sa.String(64), nullable=True),
        sa.Column("due_at", WHEN, nullable=True),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("answered_by", sa.String(64), nullable=True),
        sa.Column("answer", sa.String(2000), nullable=True),
        sa.Column("upheld", sa.Boolean(), nullable=True),
        sa.CheckConstraint("channel IN ('phone', 'window', 'online')", name="ck_hotline_records_channel"),
        sa.CheckConstraint("kind IN ('consultation', 'complaint')", name="ck_hotline_records_kind"),
    )
    op.create_index("ix_hotline_records_at", "hotline_records", ["at"])
    op.create_index("ix_hotline_records_open", "hotline_records", ["answered_at", "due_at"])
    op.create_index("ix_hotline_records_case_no", "hotline_records", ["case_no"])
    op.create_index("ix_hotline_records_clerk", "hotline_records", ["clerk"])


def downgrade() -> None:
    for table in ("hotline_records", "sanctions", "audit_checks", "audit_findings", "audit_samples"):
        op.drop_table(table)
