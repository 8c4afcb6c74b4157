"""A clerk's own tools (migration 0024): 常用意见 (phrases he or his section reuses in opinions) and the
worklist filters he saved under a name (filter and sort, as Camunda Tasklist's saved filters).

They belong to an account or a section by code, without foreign keys: a user or section removed from
bureau.toml leaves rows nobody reads, and SQLite would otherwise copy ``users`` to add one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["PhraseRow", "SavedFilterRow"]


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
