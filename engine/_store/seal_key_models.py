"""The registry of signing keys (shared by every server on one database) and second seals awaited from
functional departments (出省双章). Created by migration 0013."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["SealRequestRow", "SigningKeyRow"]


class SigningKeyRow(Base):
    """One of the bureau's signing keys: its public half, when it signed (from, until) and whether it was
    revoked (compromise). The current key is the one with neither ``valid_until`` nor ``revoked_at``; its
    private half is the key folder's ``signing-ed25519.pem``."""

    __tablename__ = "signing_keys"
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_pem: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_on: Mapped[str | None] = mapped_column(String(10), default=None)  # ISO date of the compromise
    revoked_reason: Mapped[str] = mapped_column(String(500), default="")
    revoked_by: Mapped[str | None] = mapped_column(String(64), default=None)


class SealRequestRow(Base):
    """A result to be used outside the province, sealed by the lead section and waiting for the seal of the
    functional department the power came from. Its number and verification code are taken at 用印 (the
    decision may cite the number); the document itself is issued, with both seals, when the second comes back."""

    __tablename__ = "seal_requests"
    __table_args__ = (Index("ix_seal_requests_department", "department_code", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"))
    issue_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    department_code: Mapped[str] = mapped_column(String(32))
    lead_seal_no: Mapped[str] = mapped_column(String(64))
    lead_section: Mapped[str] = mapped_column(String(32))
    lead_seal_name: Mapped[str] = mapped_column(String(200))
    lead_applied_by: Mapped[str] = mapped_column(String(64))
    lead_approved_by: Mapped[str] = mapped_column(String(64))
    lead_applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sealed
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sealed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), default=None)
