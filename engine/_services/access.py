"""Sign-in security: sessions that end on the server, account lockout and the security log.

Sessions are rows (``web_sessions``), not a per-user counter: logging out ends this browser's session
only (a clerk signed in at the window and in the back office keeps the other), an idle timeout needs a
last-seen time per session, and an administrator can see who is signed in. The cookie carries a random
token; the table keeps its SHA-256, so a copy of the database opens no session. A session ends on sign-out,
password change, deactivation, after ``idle`` without a request and ``absolute`` after sign-in whatever
the activity (the cookie's own expiry no longer slides it forever). Last-seen is written at most once per
``touch_every``, so a busy clerk costs one small write a minute, not one per page.

Lockout: ``failures`` wrong passwords in a row lock the account for ``lock_for``; while locked even the
right password is refused (guessing gains nothing). Every sign-in, failure, lockout, refusal, sign-out and
ended session is a row of ``security_events``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from .._store.db import Database
from .._store.models import UserRow, UserSectionRow
from .._store.security_models import LoginFailureRow, SecurityEventRow, WebSessionRow
from .._time.clock import Clock
from .security_records import record_event
from .users import UserAccount, UserService

__all__ = [
    "AccessService",
    "LockoutPolicy",
    "SecurityEvent",
    "SessionPolicy",
    "SignInResult",
]


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=60)
    absolute: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class LockoutPolicy:
    failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class SignInResult:
    account: UserAccount | None
    token: str | None = None  # for the session cookie; None unless signed in
    locked_until: datetime | None = None  # set when the account is (now) locked


@dataclass(frozen=True)
class SecurityEvent:
    at: datetime
    kind: str
    username: str
    client: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), **{k: getattr(self, k) for k in ("kind", "username", "client", "detail")}}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class AccessService:
    def __init__(self, db: Database, clock: Clock, users: UserService) -> None:
        self.db = db
        self.clock = clock
        self.users = users

    # -- signing in and out -------------------------------------------------------------------------
    def sign_in(self, username: str, password: str, *, client: str = "", lockout: LockoutPolicy) -> SignInResult:
        name = username.strip()[:64]
        now = self.clock.now()
        with self.db.reading() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == name)).first()
            locked = session.get(LoginFailureRow, row.id) if row is not None else None
            locked_until = locked.locked_until if locked is not None else None
        if locked_until is not None and locked_until > now:
            with self.db.writing() as session:
                record_event(session, now, "sign_in_refused_locked", name, client, f"locked until {locked_until:%H:%M}")
            return SignInResult(None, locked_until=locked_until)
        account = self.users.authenticate(name, password)  # the slow hash runs outside any write lock
        if account is None:
            return self._failed(name, row.id if row is not None else None, client, now, lockout)
        token = secrets.token_urlsafe(32)
        with self.db.writing() as session:
            failure = session.get(LoginFailureRow, account.id)
            if failure is not None:
                session.delete(failure)
            session.add(
                WebSessionRow(
                    token_hash=_digest(token), user_id=account.id, created_at=now, last_seen_at=now, client=client[:64]
                )
            )
            record_event(session, now, "signed_in", name, client)
        return SignInResult(account, token=token)

    def _failed(
        self, name: str, user_id: int | None, client: str, now: datetime, lockout: LockoutPolicy
    ) -> SignInResult:
        with self.db.writing() as session:
            record_event(session, now, "sign_in_failed", name, client, "" if user_id else "unknown user")
            if user_id is None:
                return SignInResult(None)
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            session.execute(
                insert(LoginFailureRow)
                .values(user_id=user_id, failures=1, locked_until=None)
                .on_conflict_do_update(
                    index_elements=[LoginFailureRow.user_id], set_={"failures": LoginFailureRow.failures + 1}
                )
            )
            failures = session.scalar(select(LoginFailureRow.failures).where(LoginFailureRow.user_id == user_id)) or 0
            if failures < lockout.failures:
                return SignInResult(None)
            until = now + lockout.lock_for
            session.execute(
                update(LoginFailureRow).where(LoginFailureRow.user_id == user_id).values(failures=0, locked_until=until)
            )
            record_event(
                session, now, "account_locked", name, client, f"{failures} failures; locked until {until:%H:%M}"
            )
            return SignInResult(None, locked_until=until)

    def resume(self, token: str, policy: SessionPolicy) -> UserAccount | None:
        """The account of an open session, or None (and the session ended if it just timed out)."""
        if not token:
            return None
        now = self.clock.now()
        digest = _digest(token)
        with self.db.glance() as session:
            # Every request of a signed-in user comes here: one statement (the session, its user and his
            # sections, one row per section) on the token's unique index, not three, and no transaction.
            found = session.execute(
                select(
                    WebSessionRow.ended_at,
                    WebSessionRow.created_at,
                    WebSessionRow.last_seen_at,
                    WebSessionRow.client,
                    UserRow,
                    UserSectionRow.section_code,
                )
                .outerjoin(UserRow, UserRow.id == WebSessionRow.user_id)
                .outerjoin(UserSectionRow, UserSectionRow.user_id == WebSessionRow.user_id)
                .where(WebSessionRow.token_hash == digest)
                .order_by(UserSectionRow.section_code)
            ).all()
            if not found or found[0].ended_at is not None:
                return None
            _ended, created, seen, client, user, _section = found[0]
            sections = tuple(r.section_code for r in found if r.section_code is not None)
            account = self.users._account(session, user, sections) if user is not None and user.active else None
        reason = (
            "absolute timeout"
            if now - created >= policy.absolute
            else "idle timeout"
            if now - seen >= policy.idle
            else "account inactive"
            if account is None
            else None
        )
        if reason is not None:
            with self.db.writing() as session:
                ended = session.execute(
                    update(WebSessionRow)
                    .where(WebSessionRow.token_hash == digest, WebSessionRow.ended_at.is_(None))
                    .values(ended_at=now, end_reason=reason)
                )
                if getattr(ended, "rowcount", 0):
                    record_event(session, now, "session_ended", user.username if user else "", client, reason)
            return None
        if now - seen >= policy.touch_every:
            with self.db.writing() as session:
                session.execute(
                    update(WebSessionRow).where(WebSessionRow.token_hash == digest).values(last_seen_at=now)
                )
        return account

    def sign_out(self, token: str, *, client: str = "") -> None:
        now = self.clock.now()
        with self.db.writing() as session:
            row = session.scalars(select(WebSessionRow).where(WebSessionRow.token_hash == _digest(token))).first()
            if row is None or row.ended_at is not None:
                return
            row.ended_at, row.end_reason = now, "signed out"
            user = session.get(UserRow, row.user_id)
            record_event(session, now, "signed_out", user.username if user else "", client)

    def record(self, kind: str, *, username: str = "", client: str = "", detail: str = "") -> None:
        with self.db.writing() as session:
            record_event(session, self.clock.now(), kind, username, client, detail)

    # -- reading ------------------------------------------------------------------------------------
    def events(self, *, limit: int = 100, username: str | None = None) -> list[SecurityEvent]:
        """The newest security events first."""
        query = select(SecurityEventRow).order_by(SecurityEventRow.at.desc(), SecurityEventRow.id.desc())
        if username:
            query = query.where(SecurityEventRow.username == username)
        with self.db.reading() as session:
            return [
                SecurityEvent(r.at, r.kind, r.username, r.client, r.detail)
                for r in session.scalars(query.limit(max(1, min(limit, 10_000))))
            ]

    def open_sessions(self, username: str) -> int:
        with self.db.reading() as session:
            return len(
                session.scalars(
                    select(WebSessionRow.id)
                    .join(UserRow, UserRow.id == WebSessionRow.user_id)
                    .where(UserRow.username == username, WebSessionRow.ended_at.is_(None))
                ).all()
            )
