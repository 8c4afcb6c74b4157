"""Tables of the tamper-evident record (migration 0016): the administrative log as one hash chain, the
heads of the chains that are not a case's, and the signed checkpoints that link every chain's head into
one bureau-wide chain. See engine/_services/audit.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["AdminLogRow", "AuditHeadRow", "CheckpointRow"]


class AdminLogRow(Base):
    """An administrative change (users, roles, passwords, calendar, deployments, API keys): who, when, what."""

    __tablename__ = "admin_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHeadRow(Base):
    """The head of a chain that has no case row to keep it: ``admin`` and ``checkpoint``. Locked by the
    transaction that extends the chain, so two servers never fork it."""

    __tablename__ = "audit_heads"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    head: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)


class CheckpointRow(Base):
    """A signed checkpoint: the heads of the chains that moved since the previous checkpoint, chained to it
    and signed with the bureau's Ed25519 key. ``entries``: ``[["case", case_id, seq, hex], ["admin", 0,
    seq, hex]]``."""

    __tablename__ = "audit_checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    sealed_by: Mapped[str] = mapped_column(String(64), default="")
    entries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
