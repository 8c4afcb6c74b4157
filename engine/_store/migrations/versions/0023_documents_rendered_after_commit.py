"""documents rendered after the step's commit: the step keeps the number, the facts and the digest of what
will be printed; the PDF, its SHA-256 and its size come later (runner or first download)

Revision ID: 0023
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from onewindow.engine._store.migrations.refusals import refuse_unrendered_documents

revision = "0023"
down_revision = "0020"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.alter_column("pdf", existing_type=sa.LargeBinary(), nullable=True)
        batch.alter_column("sha256", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("render_input", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("content_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("rendered_at", WHEN, nullable=True))
        batch.add_column(sa.Column("render_lease_until", WHEN, nullable=True))
    # documents issued before this release were rendered in their step
    op.execute("UPDATE documents SET rendered_at = issued_at")
    op.create_index("ix_documents_unrendered", "documents", ["rendered_at", "id"])


def downgrade() -> None:
    # The release before this one needs every document's file: refuse (changing nothing) while any waits.
    refuse_unrendered_documents(op.get_bind())
    op.drop_index("ix_documents_unrendered", table_name="documents")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("render_lease_until")
        batch.drop_column("rendered_at")
        batch.drop_column("content_sha256")
        batch.drop_column("render_input")
        batch.alter_column("sha256", existing_type=sa.String(64), nullable=False)
        batch.alter_column("pdf", existing_type=sa.LargeBinary(), nullable=False)
