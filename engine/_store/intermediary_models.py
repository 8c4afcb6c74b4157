"""Tables of the online intermediary platform (网上中介, migration 0020): the register of intermediaries with
their qualifications, and each service one of them renders on a case (how it was chosen, its own time limit,
when it delivered, the rating it got).

A case's service references the case without ``ON DELETE CASCADE``, as the oversight tables do: the record of
who worked on a case outlives any attempt to delete it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["IntermediaryRow", "IntermediaryServiceRow", "QualificationRow"]


class IntermediaryRow(Base):
    """An intermediary (中介服务机构) on the register: who it is, what it offers, whom to call."""

    __tablename__ = "intermediaries"
    __table_args__ = (CheckConstraint("state IN ('active', 'suspended')", name="ck_intermediaries_state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码, GB 32100 check character
    services: Mapped[list[Any]] = mapped_column(JSON)  # service codes: environment, energy, safety …
    contact_person: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[str] = mapped_column(String(16), default="active")
    suspended_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    suspended_by: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class QualificationRow(Base):
    """One qualification (资质) of an intermediary: the service it entitles it to, valid through ``expires_on``."""

    __tablename__ = "intermediary_qualifications"
    __table_args__ = (Index("ix_intermediary_qualifications_service", "service", "expires_on"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intermediary_id: Mapped[int] = mapped_column(ForeignKey("intermediaries.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(32))
    expires_on: Mapped[date] = mapped_column(Date)  # the last day it is valid


class IntermediaryServiceRow(Base):
    """An intermediary's service on a case: chosen by draw among the qualified or by the applicant, with its
    own time limit (``due_at``), its delivery, and the rating the lead section gave it afterwards."""

    __tablename__ = "intermediary_services"
    __table_args__ = (
        CheckConstraint("method IN ('draw', 'applicant')", name="ck_intermediary_services_method"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_intermediary_services_rating"),
        Index("ix_intermediary_services_open", "delivered_at", "due_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    intermediary_id: Mapped[int] = mapped_column(ForeignKey("intermediaries.id"), index=True)
    services: Mapped[list[Any]] = mapped_column(JSON)
    method: Mapped[str] = mapped_column(String(16))
    candidates: Mapped[list[Any]] = mapped_column(JSON)  # the qualified USCCs at the time of choosing
    selected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    selected_by: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    rating: Mapped[int | None] = mapped_column(Integer, default=None)
    rating_comment: Mapped[str | None] = mapped_column(String(500), default=None)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    rated_by: Mapped[str | None] = mapped_column(String(64), default=None)
