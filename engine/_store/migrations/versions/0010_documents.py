"""documents: issued documents kept as issued, the seal register, deliveries

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("issue_key", sa.String(120), nullable=False, unique=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("template_version", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("issued_at", WHEN, nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=False),
        sa.Column("status_at", WHEN, nullable=True),
        sa.Column("status_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_documents_case", "documents", ["case_id", "kind"])
    op.create_index("ix_documents_kind", "documents", ["kind", "issued_at"])
    op.create_table(
        "seal_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("seal_no", sa.String(64), nullable=False),
        sa.Column("section_code", sa.String(32), nullable=False),
        sa.Column("seal_name", sa.String(200), nullable=False),
        sa.Column("applied_by", sa.String(64), nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=False),
        sa.Column("applied_at", WHEN, nullable=False),
    )
    op.create_index("ix_seal_records_document_id", "seal_records", ["document_id"])
    op.create_index("ix_seal_records_section", "seal_records", ["section_code", "id"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False, unique=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=True),
        sa.Column("arranged_at", WHEN, nullable=False),
        sa.Column("arranged_by", sa.String(64), nullable=False),
        sa.Column("delivered_on", sa.String(10), nullable=True),
        sa.Column("confirmed_at", WHEN, nullable=True),
        sa.Column("confirmed_by", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_index("ix_seal_records_section", table_name="seal_records")
    op.drop_index("ix_seal_records_document_id", table_name="seal_records")
    op.drop_table("seal_records")
    op.drop_index("ix_documents_kind", table_name="documents")
    op.drop_index("ix_documents_case", table_name="documents")
    op.drop_table("documents")
