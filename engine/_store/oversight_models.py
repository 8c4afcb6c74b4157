"""Tables of oversight (migration 0017): the monthly 稽核 sample and its checklist, findings with their 整改
cases, the 追责 sanctions register, and the 96166 hotline's consultations and complaints.

Cases are referenced without ``ON DELETE CASCADE``: deleting a case must not quietly delete the oversight
record of it (a foreign key keeps the case, like the history's).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["AuditCheckRow", "AuditFindingRow", "AuditSampleRow", "HotlineRecordRow", "SanctionRow"]


class AuditSampleRow(Base):
    """One case drawn for the month's 稽核 (per section, reproducible from ``seed`` and ``rate_percent``)."""

    __tablename__ = "audit_samples"
    __table_args__ = (UniqueConstraint("month", "case_id", name="uq_audit_samples_month_case"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM, China time, of finished_at
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    case_no: Mapped[str] = mapped_column(String(32))
    section_code: Mapped[str] = mapped_column(String(32))
    seed: Mapped[str] = mapped_column(String(64))
    rate_percent: Mapped[float] = mapped_column(Float)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    drawn_by: Mapped[str] = mapped_column(String(64))


class AuditCheckRow(Base):
    """The auditor's verdict on one checklist item of one sampled case: pass, or a finding."""

    __tablename__ = "audit_checks"
    __table_args__ = (
        UniqueConstraint("sample_id", "item", name="uq_audit_checks_sample_item"),
        CheckConstraint("result IN ('pass', 'finding')", name="ck_audit_checks_result"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("audit_samples.id"))
    item: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))
    finding_id: Mapped[int | None] = mapped_column(Integer, default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(64))


class AuditFindingRow(Base):
    """A 稽核 finding on a case: the section and clerk it concerns, the checklist item, and its 整改 case.

    ``state``: ``rectifying`` (the chief's answer is due), ``answered`` (the auditor reviews it),
    ``accepted`` (closed). ``escalations`` counts rejections and missed limits (督办)."""

    __tablename__ = "audit_findings"
    __table_args__ = (
        CheckConstraint("state IN ('rectifying', 'answered', 'accepted')", name="ck_audit_findings_state"),
        Index("ix_audit_findings_at", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    section_code: Mapped[str] = mapped_column(String(32))
    clerk: Mapped[str] = mapped_column(String(64), default="")
    item: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(2000))
    auditor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    rectification_case_no: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    state: Mapped[str] = mapped_column(String(16), default="rectifying")
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    answer: Mapped[str | None] = mapped_column(String(2000), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SanctionRow(Base):
    """追责: a level of accountability decided for a person, from a finding."""

    __tablename__ = "sanctions"
    __table_args__ = (Index("ix_sanctions_at", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("audit_findings.id"))
    person: Mapped[str] = mapped_column(String(64), index=True)
    level: Mapped[str] = mapped_column(String(32))
    level_rank: Mapped[int] = mapped_column(Integer)  # 1 = the lightest level of [sanctions] levels
    reason: Mapped[str] = mapped_column(String(2000), default="")
    decided_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class HotlineRecordRow(Base):
    """96166: a consultation or complaint by phone, at a window or online, and its answer."""

    __tablename__ = "hotline_records"
    __table_args__ = (
        CheckConstraint("channel IN ('phone', 'window', 'online')", name="ck_hotline_records_channel"),
        CheckConstraint("kind IN ('consultation', 'complaint')", name="ck_hotline_records_kind"),
        Index("ix_hotline_records_at", "at"),
        Index("ix_hotline_records_open", "answered_at", "due_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(16))
    caller: Mapped[str] = mapped_column(String(100))
    matter: Mapped[str | None] = mapped_column(String(100), default=None)
    text: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(16))
    case_no: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    window: Mapped[str | None] = mapped_column(String(32), default=None)
    clerk: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    section_code: Mapped[str | None] = mapped_column(String(32), default=None)
    applicant_id: Mapped[int | None] = mapped_column(Integer, default=None)  # an online complaint's hall account
    recorded_by: Mapped[str] = mapped_column(String(64))
    assigned_to: Mapped[str | None] = mapped_column(String(64), default=None)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    answered_by: Mapped[str | None] = mapped_column(String(64), default=None)
    answer: Mapped[str | None] = mapped_column(String(2000), default=None)
    upheld: Mapped[bool | None] = mapped_column(Boolean, default=None)
