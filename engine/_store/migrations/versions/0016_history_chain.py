"""history chain: every event a link of its case's hash chain; the administrative log; signed checkpoints;
no cascade from cases to their history

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from onewindow.engine._store.chain import GENESIS, event_content, link

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)
# Unnamed constraints of the initial schema get these names when SQLite's batch mode rebuilds the table.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    # Plain ADD COLUMN on cases (a batch rebuild of cases on SQLite would drop what cascades from it).
    op.add_column("cases", sa.Column("chain_seq", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("cases", sa.Column("chain_head", sa.LargeBinary(32), nullable=True))
    op.add_column("cases", sa.Column("sealed_seq", sa.Integer(), nullable=False, server_default="0"))
    _events_without_cascade()
    _chain_existing_history()
    op.create_table(
        "admin_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False, unique=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    heads = op.create_table(
        "audit_heads",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sa.LargeBinary(32), nullable=True),
    )
    op.bulk_insert(heads, [{"name": "admin", "seq": 0, "head": None}, {"name": "checkpoint", "seq": 0, "head": None}])
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False, unique=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("sealed_by", sa.String(64), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
    )


def _events_without_cascade() -> None:
    """events.case_id references cases without ON DELETE CASCADE: a case with history cannot be deleted."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("events", recreate="always", naming_convention=NAMING) as batch:
            batch.add_column(sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
            batch.add_column(sa.Column("hash", sa.LargeBinary(32), nullable=False, server_default=""))
            batch.drop_constraint("fk_events_case_id_cases", type_="foreignkey")
            batch.create_foreign_key("fk_events_case_id_cases", "cases", ["case_id"], ["id"])
        return
    op.add_column("events", sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("events", sa.Column("hash", sa.LargeBinary(32), nullable=False, server_default=""))
    op.drop_constraint("events_case_id_fkey", "events", type_="foreignkey")
    op.create_foreign_key("events_case_id_fkey", "events", "cases", ["case_id"], ["id"])


def _chain_existing_history() -> None:
    """Link the history written before this revision, case by case in the order it was written."""
    bind = op.get_bind()
    events = sa.table(
        "events",
        sa.column("id", sa.Integer()),
        sa.column("case_id", sa.Integer()),
        sa.column("task_id", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("actor", sa.String()),
        sa.column("at", WHEN),
        sa.column("title", sa.String()),
        sa.column("section_code", sa.String()),
        sa.column("data", sa.JSON()),
        sa.column("version", sa.Integer()),
        sa.column("state_delta", sa.LargeBinary()),
        sa.column("seq", sa.Integer()),
        sa.column("hash", sa.LargeBinary()),
    )
    cases = sa.table(
        "cases", sa.column("id", sa.Integer()), sa.column("chain_seq", sa.Integer()), sa.column("chain_head")
    )
    set_event = (
        events.update().where(events.c.id == sa.bindparam("eid")).values(seq=sa.bindparam("s"), hash=sa.bindparam("h"))
    )
    set_case = (
        cases.update()
        .where(cases.c.id == sa.bindparam("cid"))
        .values(chain_seq=sa.bindparam("s"), chain_head=sa.bindparam("h"))
    )
    case_ids = bind.execute(sa.select(events.c.case_id).distinct()).scalars().all()
    for case_id in case_ids:
        rows = bind.execute(sa.select(events).where(events.c.case_id == case_id).order_by(events.c.id)).mappings()
        seq, previous, updates = 0, GENESIS, []
        for row in rows:
            seq += 1
            previous = link(previous, event_content(case_id, seq, _aware(dict(row))))
            updates.append({"eid": row["id"], "s": seq, "h": previous})
        if updates:
            bind.execute(set_event, updates)
            bind.execute(set_case, {"cid": case_id, "s": seq, "h": previous})


def _aware(row: dict[str, Any]) -> dict[str, Any]:
    from datetime import UTC

    at = row["at"]
    row["at"] = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return row


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_heads")
    op.drop_table("admin_log")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("events", recreate="always", naming_convention=NAMING) as batch:
            batch.drop_constraint("fk_events_case_id_cases", type_="foreignkey")
            batch.create_foreign_key("fk_events_case_id_cases", "cases", ["case_id"], ["id"], ondelete="CASCADE")
            batch.drop_column("hash")
            batch.drop_column("seq")
    else:
        op.drop_constraint("events_case_id_fkey", "events", type_="foreignkey")
        op.create_foreign_key("events_case_id_fkey", "events", "cases", ["case_id"], ["id"], ondelete="CASCADE")
        op.drop_column("events", "hash")
        op.drop_column("events", "seq")
    for column in ("sealed_seq", "chain_head", "chain_seq"):
        op.execute(sa.text(f"ALTER TABLE cases DROP COLUMN {column}"))
