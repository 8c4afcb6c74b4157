"""The administrative record: users, roles, passwords, calendar overrides, deployments and API keys, each
change written as one link of the ``admin`` chain in the transaction that made it.

The chain's head lives in ``audit_heads`` and is locked by the writing transaction (SQLite holds the write
lock already), so changes made on several servers are linked one after another, never forked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._store.audit_models import AdminLogRow, AuditHeadRow
from .._store.chain import GENESIS, admin_content, link

__all__ = ["ADMIN_CHAIN", "record_admin"]

ADMIN_CHAIN = "admin"


def record_admin(
    session: Session, at: datetime, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None
) -> None:
    """Append one administrative change to the chain, in the caller's transaction."""
    head = session.scalars(select(AuditHeadRow).where(AuditHeadRow.name == ADMIN_CHAIN).with_for_update()).one()
    row: dict[str, Any] = {
        "at": at,
        "actor": actor[:64],
        "action": action[:64],
        "target": target[:200],
        "detail": dict(detail or {}),
    }
    seq = head.seq + 1
    digest = link(bytes(head.head or GENESIS), admin_content(seq, row))
    session.add(AdminLogRow(seq=seq, hash=digest, **row))
    head.seq, head.head = seq, digest
