"""seals and keys: the registry of signing keys (rotation, revocation), second seals of documents used outside
the province (出省双章) and when a seal's use was approved

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_on", sa.String(10), nullable=True),
        sa.Column("revoked_reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("revoked_by", sa.String(64), nullable=True),
    )
    op.create_table(
        "seal_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("issue_key", sa.String(120), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("number", sa.String(64), nullable=False, unique=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("department_code", sa.String(32), nullable=False),
        sa.Column("lead_seal_no", sa.String(64), nullable=False),
        sa.Column("lead_section", sa.String(32), nullable=False),
        sa.Column("lead_seal_name", sa.String(200), nullable=False),
        sa.Column("lead_applied_by", sa.String(64), nullable=False),
        sa.Column("lead_approved_by", sa.String(64), nullable=False),
        sa.Column("lead_applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sealed_by", sa.String(64), nullable=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=True),
    )
    op.create_index("ix_seal_requests_department", "seal_requests", ["department_code", "state"])
    with op.batch_alter_table("seal_records") as batch:
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seal_records") as batch:
        batch.drop_column("approved_at")
    op.drop_index("ix_seal_requests_department", "seal_requests")
    op.drop_table("seal_requests")
    op.drop_table("signing_keys")
