"""phrases (常用意见, a user's own or a section's) and saved_filters (a user's named worklist filter and sort)

Revision ID: 0024
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from onewindow.engine._store.migrations.refusals import refuse_unrendered_documents

revision = "0024"
down_revision = "0018"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "phrases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("section_code", sa.String(32), nullable=True),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("(owner IS NULL) <> (section_code IS NULL)", name="ck_phrases_owner_or_section"),
    )
    op.create_index("ix_phrases_owner", "phrases", ["owner"])
    op.create_index("ix_phrases_section", "phrases", ["section_code"])
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("query", sa.String(1000), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.UniqueConstraint("owner", "name", name="uq_saved_filters_owner_name"),
    )


def downgrade() -> None:
    # Below 0023 a downgrade refuses while an issued document waits to be rendered (see 0018): refuse here
    # first, before these tables go, so that a refused downgrade to an older release changes nothing.
    if context.get_revision_argument() not in ("0018", "0023"):
        refuse_unrendered_documents(op.get_bind())
    op.drop_table("saved_filters")
    op.drop_index("ix_phrases_section", table_name="phrases")
    op.drop_index("ix_phrases_owner", table_name="phrases")
    op.drop_table("phrases")
