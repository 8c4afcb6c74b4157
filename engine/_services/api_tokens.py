"""Applicants' bearer tokens for the apps (两微一端): issued at sign-in through the API, sent as
``Authorization: Bearer owa_…`` until they expire or are revoked (signing out, or the account disabled).

Like the API keys and the web sessions, a token is 256 random bits of which only the SHA-256 is kept: a
copy of the database opens no account, and a plain hash suffices for a secret nobody can guess.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from .._store.api_models import ApiTokenRow
from .._store.db import Database
from .._store.hall_models import ApplicantRow
from .._time.clock import Clock
from .applicants import ApplicantView, _view

__all__ = ["ApiTokenService", "ApplicantToken"]

PREFIX = "owa_"
_TOKEN = re.compile(r"owa_[A-Za-z0-9_-]{43}")
DEFAULT_LIFETIME = timedelta(days=7)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class ApplicantToken:
    token: str  # shown once, to the app that signed in
    expires_at: datetime
    applicant: ApplicantView


class ApiTokenService:
    def __init__(self, db: Database, clock: Clock, *, lifetime: timedelta = DEFAULT_LIFETIME) -> None:
        self.db = db
        self.clock = clock
        self.lifetime = lifetime

    def issue(self, applicant: ApplicantView) -> ApplicantToken:
        """A new token for a signed-in account (``engine.applicants.authenticate`` checked the password)."""
        token = PREFIX + secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.db.writing() as session:
            session.add(
                ApiTokenRow(
                    token_hash=_digest(token), applicant_id=applicant.id, issued_at=now, expires_at=now + self.lifetime
                )
            )
        return ApplicantToken(token, now + self.lifetime, applicant)

    def authenticate(self, token: str) -> ApplicantView | None:
        """The account of a current token; None for a malformed, unknown, expired or revoked one, or a
        disabled account."""
        if _TOKEN.fullmatch(token or "") is None:
            return None
        now = self.clock.now()
        with self.db.reading() as session:
            found = session.execute(
                select(ApiTokenRow, ApplicantRow)
                .join(ApplicantRow, ApplicantRow.id == ApiTokenRow.applicant_id)
                .where(ApiTokenRow.token_hash == _digest(token))
            ).first()
            if found is None:
                return None
            row, account = found
            if row.revoked_at is not None or now >= row.expires_at or account.disabled:
                return None
            return _view(account)

    def revoke(self, token: str) -> None:
        """End a token (the app signs out); unknown tokens are ignored."""
        if _TOKEN.fullmatch(token or "") is None:
            return
        with self.db.writing() as session:
            session.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.token_hash == _digest(token), ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=self.clock.now())
            )
