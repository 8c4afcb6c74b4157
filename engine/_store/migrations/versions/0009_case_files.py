"""materials as files: case_files (every version of every material), material_defects; online applications
(online_applications, draft_files)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "case_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("material_code", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", WHEN, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.UniqueConstraint("case_id", "material_code", "version"),
    )
    op.create_index("ix_case_files_case", "case_files", ["case_id", "material_code", "version"])
    op.create_index("ix_case_files_sha256", "case_files", ["sha256"])
    op.create_table(
        "material_defects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("material_code", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("cleared_at", WHEN, nullable=True),
        sa.Column("cleared_by_file_id", sa.Integer(), sa.ForeignKey("case_files.id"), nullable=True),
    )
    op.create_index("ix_material_defects_case", "material_defects", ["case_id", "material_code"])
    op.create_table(
        "online_applications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("by_agent", sa.Boolean(), nullable=False),
        sa.Column("matter_key", sa.String(100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("submitted_at", WHEN, nullable=True),
    )
    op.create_index("ix_online_applications_owner", "online_applications", ["owner_id", "status"])
    op.create_table(
        "draft_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "application_id",
            sa.Integer(),
            sa.ForeignKey("online_applications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("material_code", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_at", WHEN, nullable=False),
    )
    op.create_index("ix_draft_files_application_id", "draft_files", ["application_id"])


def downgrade() -> None:
    op.drop_index("ix_draft_files_application_id", table_name="draft_files")
    op.drop_table("draft_files")
    op.drop_index("ix_online_applications_owner", table_name="online_applications")
    op.drop_table("online_applications")
    op.drop_index("ix_material_defects_case", table_name="material_defects")
    op.drop_table("material_defects")
    op.drop_index("ix_case_files_sha256", table_name="case_files")
    op.drop_index("ix_case_files_case", table_name="case_files")
    op.drop_table("case_files")
