"""Tables of the JSON API (/api/v1/): systems' API keys and applicants' bearer tokens. Created by migration
0015.

Only a hash of each secret is stored, so a copy of the database (a backup, a replica) opens nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime

__all__ = ["ApiKeyRow", "ApiTokenRow"]


class ApiKeyRow(Base):
    """A system's key: it acts as one staff user (a service account, like a workflow engine's technical user)
    and/or speaks for one supervising department, within its scopes.

    The token handed out once is ``owk_<key_id>_<secret>``: ``key_id`` is public (shown in lists and logs,
    to tell keys apart), the secret is 256 random bits of which only the SHA-256 is kept. A plain hash is
    right here, unlike for passwords: a slow, salted hash (scrypt) exists to make guessing low-entropy
    human passwords expensive, while nobody can guess 2**256 possibilities whatever the hash costs, and a
    slow hash would add its cost to every API request."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    # the staff user the key acts as (the worklist's rules apply to it as to that user); none for a key that
    # only speaks for a supervising department
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), default=None)
    department_code: Mapped[str | None] = mapped_column(String(32), default=None)
    scopes: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ApiTokenRow(Base):
    """An applicant's bearer token, issued at sign-in (``POST /api/v1/auth/token``) for the apps. Like the
    keys, a random token of which only the SHA-256 is kept; it ends at ``expires_at`` or when revoked."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id", ondelete="CASCADE"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (Index("ix_api_tokens_applicant", "applicant_id"),)
