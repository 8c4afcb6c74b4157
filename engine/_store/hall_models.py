"""Tables of the hall's accounts and of 好差评: applicants and agents (帮办代办) who sign in to the hall, their
server-side sessions, and one rating per ended case. Created by migration 0014.

An online application's ``owner_id`` is an ``applicants.id``; it stays a plain indexed column (no foreign
key) so a draft never blocks the removal of an account's data and the engine's own tests can make drafts
without accounts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["ApplicantRow", "ApplicantSessionRow", "RatingRow"]


class ApplicantRow(Base):
    """A hall account: an applicant, or an agent who applies on applicants' behalf (帮办代办)."""

    __tablename__ = "applicants"
    __table_args__ = (CheckConstraint("kind IN ('applicant', 'agent')", name="ck_applicants_kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # applicant | agent
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)  # 居民身份证号 (GB 11643), X upper-case
    mobile: Mapped[str] = mapped_column(String(11), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(default=False)
    # 短信提醒 turned off in the hall (migration 0025): the message box still records every notification
    sms_opt_out: Mapped[bool] = mapped_column(default=False)


class ApplicantSessionRow(Base):
    """One signed-in browser (or app) of a hall account; only the token's SHA-256 is stored."""

    __tablename__ = "applicant_sessions"
    __table_args__ = (Index("ix_applicant_sessions_applicant", "applicant_id", "ended_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    client: Mapped[str] = mapped_column(String(64), default="")


class RatingRow(Base):
    """好差评 of one ended case (one per case): the level, who rated it where, the section and clerk it counts
    for, and for a bad one the 回访整改 case and the chief's reply."""

    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="ck_ratings_level"),
        CheckConstraint("channel IN ('online', 'window')", name="ck_ratings_channel"),
        Index("ix_ratings_rated_at", "rated_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("applicants.id", ondelete="SET NULL"), default=None)
    level: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    comment: Mapped[str] = mapped_column(String(500), default="")
    channel: Mapped[str] = mapped_column(String(16))  # online | window
    section_code: Mapped[str] = mapped_column(String(32), default="")  # the case's lead section
    clerk: Mapped[str] = mapped_column(String(64), default="")  # who handled it there (user name)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    followup_case_no: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    reply: Mapped[str | None] = mapped_column(String(2000), default=None)  # the chief's answer to the applicant
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
