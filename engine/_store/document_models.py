"""Tables of issued documents: the documents themselves (kept as issued, bytes and all), the seal register
(用印登记) and deliveries (送达). Created by migration 0010."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["DeliveryRow", "DocumentRow", "SealRecordRow"]


class DocumentRow(Base):
    """One issued document. ``pdf`` is the signed file as issued: a reprint is these bytes, and ``sha256`` is
    their digest. Only the status columns ever change (撤销 / 注销); the content never does.

    Since migration 0023 the step that issues a document stores its number, its facts and ``render_input``
    (everything printed on it, digested into ``content_sha256``, which the step's history event records);
    the PDF is rendered and signed after the commit (``rendered_at`` set once, by the renderer or the first
    download), so a step does not hold its case's lock while WeasyPrint works."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_case", "case_id", "kind"),
        Index("ix_documents_kind", "kind", "issued_at"),
        Index("ix_documents_unrendered", "rendered_at", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"))
    # what may be issued once: "<case id>:<kind>" (or with the step that issued it, for kinds issued per step)
    issue_key: Mapped[str] = mapped_column(String(120), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # the verification code behind the QR
    template_version: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)  # None until rendered
    size: Mapped[int] = mapped_column(Integer, default=0)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True, default=None)
    key_id: Mapped[str] = mapped_column(String(16))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the key facts the public page shows
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="valid")  # valid | revoked | cancelled
    status_reason: Mapped[str] = mapped_column(String(500), default="")
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    status_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # migration 0023: rendering after the step's commit
    render_input: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None, deferred=True)
    content_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    render_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SealRecordRow(Base):
    """用印登记: which seal went on which document, who applied it, who approved it, when."""

    __tablename__ = "seal_records"
    __table_args__ = (Index("ix_seal_records_section", "section_code", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"), index=True)
    seal_no: Mapped[str] = mapped_column(String(64))
    section_code: Mapped[str] = mapped_column(String(32))  # the section (or "bureau") the seal belongs to
    seal_name: Mapped[str] = mapped_column(String(200))
    applied_by: Mapped[str] = mapped_column(String(64), default="")
    approved_by: Mapped[str] = mapped_column(String(64), default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # migration 0013
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryRow(Base):
    """送达: how a case's documents went to the applicant, and when the delivery was confirmed (已送达)."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), unique=True)
    method: Mapped[str] = mapped_column(String(16))  # in_person | express | agent | door
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), default=None)
    arranged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    arranged_by: Mapped[str] = mapped_column(String(64), default="")
    delivered_on: Mapped[str | None] = mapped_column(String(10), default=None)  # ISO date, China time
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    confirmed_by: Mapped[str | None] = mapped_column(String(64), default=None)
