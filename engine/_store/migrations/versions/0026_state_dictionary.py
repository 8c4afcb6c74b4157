"""process_definitions.state_dictionary: zlib's preset dictionary of a version's case snapshots

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa
from alembic import context, op

from onewindow.engine._store.migrations.refusals import refuse_pending_sms, refuse_unrendered_documents

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions deployed before keep no dictionary: their cases' snapshots stay plain zlib, as written.
    op.add_column("process_definitions", sa.Column("state_dictionary", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    target = context.get_revision_argument()
    # Below 0025 its own refusals come first, so that a refused downgrade changes nothing.
    if target != "0025":
        refuse_pending_sms(bind)
        if target not in ("0024", "0018", "0023"):
            refuse_unrendered_documents(bind)
    # An older release reads snapshots without a dictionary: compress them again without it (same JSON, so the
    # step log recorded against each snapshot still decodes).
    dictionaries = {
        int(r.id): bytes(r.state_dictionary)
        for r in bind.execute(
            sa.text("SELECT id, state_dictionary FROM process_definitions WHERE state_dictionary IS NOT NULL")
        )
    }
    last = 0
    while dictionaries:
        rows = bind.execute(
            sa.text("SELECT id, definition_id, state FROM cases WHERE id > :last ORDER BY id LIMIT 500"),
            {"last": last},
        ).all()
        if not rows:
            break
        for r in rows:
            last = int(r.id)
            zdict = dictionaries.get(int(r.definition_id))
            if zdict is None or r.state is None:
                continue
            unpacker = zlib.decompressobj(zdict=zdict)
            text = unpacker.decompress(bytes(r.state)) + unpacker.flush()
            bind.execute(sa.text("UPDATE cases SET state = :s WHERE id = :c"), {"s": zlib.compress(text, 6), "c": r.id})
    # Plain ALTER TABLE … DROP COLUMN, as 0025 does: no table rebuild under the cases' foreign key.
    op.execute(sa.text("ALTER TABLE process_definitions DROP COLUMN state_dictionary"))
