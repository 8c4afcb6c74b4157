"""Tables of a case's materials as files (一套材料): every uploaded version of every material, and the
defects the window found in them, and the hall's online applications (drafts and their files). Case file
rows are only ever added: a 补正 is a new version, a defect answered is
marked cleared, nothing is overwritten. Created by migration 0009."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["CaseFileRow", "DraftFileRow", "MaterialDefectRow", "OnlineApplicationRow"]


class CaseFileRow(Base):
    """One version of one material of a case; the bytes are in the blob store under ``sha256``."""

    __tablename__ = "case_files"
    __table_args__ = (
        UniqueConstraint("case_id", "material_code", "version"),
        Index("ix_case_files_case", "case_id", "material_code", "version"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    material_code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))  # checked from the bytes, never from the name
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16), default="window")  # window | online | agent | api


class MaterialDefectRow(Base):
    """A reason why a material of a case is not acceptable as handed in (缺失, 不清晰, 过期 …), recorded by
    the window; open until the applicant supplements the material."""

    __tablename__ = "material_defects"
    __table_args__ = (Index("ix_material_defects_case", "case_id", "material_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    material_code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    cleared_by_file_id: Mapped[int | None] = mapped_column(ForeignKey("case_files.id"), default=None)


class OnlineApplicationRow(Base):
    """An application made in the hall: a draft the applicant (or an agent for him) fills in over several
    visits, then submits once; submitting registers the case (``case_id``)."""

    __tablename__ = "online_applications"
    __table_args__ = (
        Index("ix_online_applications_owner", "owner_id", "status"),
        Index("ix_online_applications_case", "case_id"),  # whose case it is (migration 0025: notifications)
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)  # the hall account that made it (applicants.id)
    by_agent: Mapped[bool] = mapped_column(default=False)  # 帮办代办: made for the applicant by an agent
    matter_key: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | submitted
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DraftFileRow(Base):
    """A file uploaded to a draft (the bytes are in the blob store); submitting makes it version 1 of the
    case's material."""

    __tablename__ = "draft_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("online_applications.id", ondelete="CASCADE"), index=True)
    material_code: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
