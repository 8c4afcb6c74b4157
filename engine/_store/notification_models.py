"""The applicants' notifications (migration 0025): one row per thing a case told its applicant (受理, 补正, 办结 …).

A row is written in the transaction of the step that caused it. ``applicant_id`` is the hall account whose
message box (消息盒子) shows it: the account that applied online, or for a window case the account registered
with the application's mobile number; a window applicant without an account has rows with no account (the
SMS alone). ``(case_id, key)`` is unique: a step that repeats what the case reached before (a send-back, a
reopened 补正) tells the applicant nothing new.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["ApplicantMessageRow"]


class ApplicantMessageRow(Base):
    """One notification: its words (the SMS text after the signature), the account's box, and its SMS."""

    __tablename__ = "applicant_messages"
    __table_args__ = (
        UniqueConstraint("case_id", "key", name="uq_applicant_messages_case_key"),
        Index("ix_applicant_messages_box", "applicant_id", "read_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    case_no: Mapped[str] = mapped_column(String(32))
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("applicants.id", ondelete="SET NULL"), default=None)
    key: Mapped[str] = mapped_column(String(100))  # what was told, once per case: accepted, supplement:<task> …
    kind: Mapped[str] = mapped_column(String(32))  # accepted | supplement | approved | issued | … | notice
    title: Mapped[str] = mapped_column(String(100))  # the box's one-line heading
    text: Mapped[str] = mapped_column(Text)  # the message (the SMS's words after its 【signature】)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # queued (an outbox message to the gateway) | opted_out | no_gateway | no_mobile
    sms: Mapped[str] = mapped_column(String(16))
    sms_to: Mapped[str] = mapped_column(String(11), default="")  # masked: 138****8000
    outbox_id: Mapped[str | None] = mapped_column(String(36), default=None)
