"""cases.channel, cases.query_code and cases.origin_case_no: how a case came in, the code its applicant
tracks it with, and the case a follow-up case was started from

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The same alphabet as engine/_services/query_codes.py: no 0/O, 1/I/L, so a code read off paper is typed right.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN: a batch rebuild of ``cases`` on SQLite would drop the table its tasks
    # and events cascade from. No foreign key on origin_case_no (SQLite can neither add one to a table nor
    # drop a column that has one): the engine checks the origin case exists when it starts a follow-up.
    op.add_column("cases", sa.Column("channel", sa.String(16), nullable=False, server_default="window"))
    op.add_column("cases", sa.Column("query_code", sa.String(8), nullable=True))
    op.add_column("cases", sa.Column("origin_case_no", sa.String(32), nullable=True))
    op.create_index("ix_cases_origin_case_no", "cases", ["origin_case_no"])
    # Cases registered before this revision get a code too: their receipts could not print one, but the
    # window can read it off the case page and give it to the applicant.
    bind = op.get_bind()
    ids = bind.execute(sa.text("SELECT id FROM cases WHERE query_code IS NULL")).scalars().all()
    for case_id in ids:
        code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        bind.execute(sa.text("UPDATE cases SET query_code = :c WHERE id = :i"), {"c": code, "i": case_id})


def downgrade() -> None:
    op.drop_index("ix_cases_origin_case_no", "cases")
    # Plain DROP COLUMN (PostgreSQL, SQLite >= 3.35), for the reason given in upgrade().
    for column in ("origin_case_no", "query_code", "channel"):
        op.execute(sa.text(f"ALTER TABLE cases DROP COLUMN {column}"))
