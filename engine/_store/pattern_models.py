"""Tables of the approval patterns (migration 0020): a case's 多评合一 commission (joint evaluation: the
assessments it covers, its own limit, the expert review's opinion) and its 重大项目会审 (joint review
meeting: date, sections, attendees, opinions, minutes and the follow-up cases it assigned).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["EvaluationRow", "MeetingRow"]


class EvaluationRow(Base):
    """多评合一: one commission for several assessments, off the legal clock, with a limit of its own."""

    __tablename__ = "joint_evaluations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    assessments: Mapped[list[Any]] = mapped_column(JSON)  # [{code, name, report}] as the matter lists them
    basis: Mapped[str] = mapped_column(String(500))  # why its time is off the clock
    limit_text: Mapped[str] = mapped_column(String(64))  # its own limit, e.g. "30 working_days"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    review_date: Mapped[str | None] = mapped_column(String(10), default=None)
    experts: Mapped[str | None] = mapped_column(String(500), default=None)
    opinion: Mapped[str | None] = mapped_column(String(16), default=None)  # pass | revise | fail
    opinion_text: Mapped[str | None] = mapped_column(String(2000), default=None)


class MeetingRow(Base):
    """重大项目会审: a meeting the lead section convenes on a case, and what came of it."""

    __tablename__ = "joint_meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    lead_section: Mapped[str] = mapped_column(String(32))
    meeting_date: Mapped[str] = mapped_column(String(10))
    invited: Mapped[list[Any]] = mapped_column(JSON)  # section codes
    convened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    convened_by: Mapped[str] = mapped_column(String(64))
    attendees: Mapped[list[Any]] = mapped_column(JSON, default=list)
    opinions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # section code -> opinion
    minutes_file_id: Mapped[int | None] = mapped_column(Integer, default=None)
    followups: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{case_no, section, duty, due}]
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    recorded_by: Mapped[str | None] = mapped_column(String(64), default=None)
