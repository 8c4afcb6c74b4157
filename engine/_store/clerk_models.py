"""A clerk's own tools (migration 0024): 常用意见 (phrases he or his section reuses in opinions) and the
worklist filters he saved under a name (filter and sort, as Camunda Tasklist's saved filters); and his
absences with the colleague who covers them (AB岗, migration 0027).

They belong to an account or a section by code, without foreign keys: a user or section removed from
bureau.toml leaves rows nobody reads, and SQLite would otherwise copy ``users`` to add one.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["AbsenceRow", "PhraseRow", "SavedFilterRow"]


class PhraseRow(Base):
    """One 常用意见: a user's own (``owner``) or a section's (``section_code``, kept by its chief), never both."""

    __tablename__ = "phrases"
    __table_args__ = (
        CheckConstraint("(owner IS NULL) <> (section_code IS NULL)", name="ck_phrases_owner_or_section"),
        Index("ix_phrases_owner", "owner"),
        Index("ix_phrases_section", "section_code"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(64), default=None)
    section_code: Mapped[str | None] = mapped_column(String(32), default=None)
    text: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SavedFilterRow(Base):
    """A worklist view a user saved: its name and the query string of its filter and sort."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_saved_filters_owner_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(60))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AbsenceRow(Base):
    """AB岗: one absence of a staff member (A岗), whole days in China time, and the colleague who covers it
    (B岗). ``handed_over_at``: when A's claimed steps went to B (the first day of the absence, or at once when
    it is recorded on or after it); ``ended_at``: 销假 before ``ends_on``."""

    __tablename__ = "staff_absences"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ck_staff_absences_days"),
        CheckConstraint("backup <> username", name="ck_staff_absences_backup"),
        Index("ix_staff_absences_username", "username", "ends_on"),
        Index("ix_staff_absences_due", "handed_over_at", "starts_on"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    backup: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_by: Mapped[str | None] = mapped_column(String(64), default=None)
