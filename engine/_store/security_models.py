"""Tables of sign-in security: web sessions ended on the server, sign-in failures (lockout), the
security log, and the shared rate-limit counters (several servers share one database, so counters never
live in one process's memory). Created by migration 0007.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["LoginFailureRow", "RateCounterRow", "SecurityEventRow", "WebSessionRow"]


class WebSessionRow(Base):
    """One signed-in browser. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    end_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    client: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (Index("ix_web_sessions_user", "user_id", "ended_at"),)


class LoginFailureRow(Base):
    """Consecutive failed sign-ins of an account and, once too many, until when it is locked."""

    __tablename__ = "login_failures"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SecurityEventRow(Base):
    """Sign-ins, failures, lockouts, throttling, sign-outs and ended sessions, for the administrator."""

    __tablename__ = "security_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64), default="")  # as typed (cut), also for unknown names
    client: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(String(255), default="")

    __table_args__ = (Index("ix_security_events_at", "at"), Index("ix_security_events_user", "username", "at"))


class RateCounterRow(Base):
    """A fixed-window counter of Flask-Limiter (``limits``' storage API): hits until ``expires_at``."""

    __tablename__ = "rate_counters"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds of the wall clock the limiter uses
