"""hall accounts and 好差评: applicants (and agents) with their sessions, ratings of ended cases

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "applicants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False, unique=True),
        sa.Column("mobile", sa.String(11), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint("kind IN ('applicant', 'agent')", name="ck_applicants_kind"),
    )
    op.create_table(
        "applicant_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("applicant_id", sa.Integer(), sa.ForeignKey("applicants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("client", sa.String(64), nullable=False),
    )
    op.create_index("ix_applicant_sessions_applicant", "applicant_sessions", ["applicant_id", "ended_at"])
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("applicant_id", sa.Integer(), sa.ForeignKey("applicants.id", ondelete="SET NULL"), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(500), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("section_code", sa.String(32), nullable=False),
        sa.Column("clerk", sa.String(64), nullable=False),
        sa.Column("rated_at", WHEN, nullable=False),
        sa.Column("followup_case_no", sa.String(32), nullable=True),
        sa.Column("reply", sa.String(2000), nullable=True),
        sa.Column("replied_at", WHEN, nullable=True),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name="ck_ratings_level"),
        sa.CheckConstraint("channel IN ('online', 'window')", name="ck_ratings_channel"),
    )
    op.create_index("ix_ratings_rated_at", "ratings", ["rated_at"])
    op.create_index("ix_ratings_followup_case_no", "ratings", ["followup_case_no"])


def downgrade() -> None:
    op.drop_index("ix_ratings_followup_case_no", "ratings")
    op.drop_index("ix_ratings_rated_at", "ratings")
    op.drop_table("ratings")
    op.drop_index("ix_applicant_sessions_applicant", "applicant_sessions")
    op.drop_table("applicant_sessions")
    op.drop_table("applicants")
