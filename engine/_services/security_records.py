"""Writing security records inside a caller's transaction (used by sign-in and by account changes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from .._store.security_models import SecurityEventRow, WebSessionRow

__all__ = ["end_user_sessions", "record_event"]


def record_event(
    session: Session, at: datetime, kind: str, username: str = "", client: str = "", detail: str = ""
) -> None:
    """One security-log row in the caller's transaction (written with what it logs, or not at all)."""
    session.add(SecurityEventRow(at=at, kind=kind, username=username[:64], client=client[:64], detail=detail[:255]))


def end_user_sessions(session: Session, user_id: int, at: datetime, reason: str) -> int:
    """End every open session of a user (password changed, account deactivated); how many were open."""
    result = session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.user_id == user_id, WebSessionRow.ended_at.is_(None))
        .values(ended_at=at, end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)
