"""API keys of the systems that call the JSON API (/api/v1/): issue, list, revoke, and authenticate a
bearer token.

A key acts as one staff user (a service account, as workflow engines have technical users): the API
applies the worklist's rules to it exactly as to that user, so a key acting as a clerk of a section sees
and claims only what that clerk could; deactivating the user stops the key. A key may instead (or also)
speak for a supervising department, for the department's feedback (监管发现审批瑕疵). Scopes narrow what a
key may do on top of that: a key never does more than its user could.

The token is shown once, at issue; the database keeps the SHA-256 of its secret (see ``ApiKeyRow`` for why
a plain hash is right for random tokens). Issuing and revoking are written to the security log.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .._config.bureau import Bureau
from .._errors import FieldError, NotFoundError, ValidationError
from .._store.api_models import ApiKeyRow
from .._store.db import Database
from .._store.models import UserRow
from .._time.clock import Clock
from .admin_log import record_admin
from .security_records import record_event
from .users import UserAccount, UserService

__all__ = ["API_SCOPES", "ApiCaller", "ApiKeyService", "ApiKeyView", "IssuedKey"]

# What each scope allows; the worklist's rules for the key's user apply on top.
API_SCOPES: dict[str, str] = {
    "cases:read": "list and read the cases the key's user may open",
    "tasks:read": "list the key's user's worklist and read a task with its form",
    "tasks:write": "claim and complete tasks as the key's user",
    "supervision:feedback": "report a flaw in a result shared with the key's department (监管发现审批瑕疵)",
}
STAFF_SCOPES = frozenset({"cases:read", "tasks:read", "tasks:write"})
PREFIX = "owk_"
_TOKEN = re.compile(r"owk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
# last_used_at is written at most this often: a busy integration costs one small write a minute, not one per call
TOUCH_EVERY = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class ApiKeyView:
    id: int
    key_id: str  # public: printed in lists, tells keys apart (the token starts with owk_<key_id>_)
    name: str
    username: str | None
    department: str | None
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["scopes"] = list(self.scopes)
        out["active"] = self.active
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in out.items()}


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKeyView
    token: str  # the whole bearer token; shown once, never stored


@dataclass(frozen=True)
class ApiCaller:
    """Who an authenticated API key speaks for."""

    key: ApiKeyView
    user: UserAccount | None  # the staff user it acts as
    department: str | None  # the supervising department it speaks for (its own, or its user's)

    def allows(self, scope: str) -> bool:
        return scope in self.key.scopes

    @property
    def actor(self) -> str:
        """The name history records: the user's, or the key's for a department's key."""
        return self.user.username if self.user is not None else f"api:{self.key.name}"[:64]


class ApiKeyService:
    def __init__(self, db: Database, clock: Clock, users: UserService, bureau: Bureau) -> None:
        self.db = db
        self.clock = clock
        self.users = users
        self.bureau = bureau

    def issue(
        self,
        name: str,
        scopes: Sequence[str],
        *,
        user: str | None = None,
        department: str | None = None,
        actor: str,
    ) -> IssuedKey:
        """A new key; the returned token is the only copy of its secret."""
        name = (name or "").strip()
        wanted = tuple(dict.fromkeys(s.strip() for s in scopes if s.strip()))
        problems: list[FieldError] = []
        if not name or len(name) > 100:
            problems.append(FieldError("name", "a name of 1-100 characters is needed (which system uses the key)"))
        if not wanted:
            problems.append(FieldError("scope", f"at least one scope is needed (one of: {', '.join(API_SCOPES)})"))
        for s in wanted:
            if s not in API_SCOPES:
                problems.append(FieldError("scope", f"unknown scope '{s}' (one of: {', '.join(API_SCOPES)})"))
        if not user and not department:
            problems.append(
                FieldError("owner", "a key acts as a staff user (--user) or for a department (--department)")
            )
        if department and self.bureau.department(department) is None:
            known = ", ".join(d.code for d in self.bureau.departments) or "none"
            problems.append(FieldError("department", f"unknown department '{department}' (bureau.toml: {known})"))
        if problems:
            raise ValidationError("API key", problems)
        now = self.clock.now()
        with self.db.writing() as session:
            account = None
            if user:
                row = session.scalars(select(UserRow).where(UserRow.username == user)).first()
                if row is None:
                    raise NotFoundError.unknown("user", user)
                account = self.users._account(session, row)
                if not account.active:
                    raise ValidationError("API key", [FieldError("user", f"'{user}' is deactivated")])
            speaks_for = department or (account.department if account is not None else None)
            if department and account is not None and account.department not in (None, department):
                raise ValidationError(
                    "API key",
                    [FieldError("department", f"'{user}' is a supervisor of {account.department}, not {department}")],
                )
            if STAFF_SCOPES & set(wanted) and account is None:
                raise ValidationError(
                    "API key", [FieldError("scope", "cases:… and tasks:… scopes need a staff user (--user)")]
                )
            if "supervision:feedback" in wanted and speaks_for is None:
                raise ValidationError(
                    "API key", [FieldError("scope", "supervision:feedback needs a supervising department")]
                )
            key_id = secrets.token_hex(6)
            secret = secrets.token_urlsafe(32)  # 256 random bits, 43 characters
            key = ApiKeyRow(
                key_id=key_id,
                secret_hash=_digest(secret),
                name=name,
                user_id=account.id if account is not None else None,
                department_code=department or None,
                scopes=list(wanted),
                created_at=now,
                created_by=actor[:64],
            )
            session.add(key)
            session.flush()
            record_event(session, now, "api_key_issued", username=actor, detail=f"{key_id} {name}"[:255])
            detail = {"name": name, "scopes": list(wanted), "user": user or None, "department": department or None}
            record_admin(session, now, actor, "apikey.add", key_id, detail)
            return IssuedKey(self._view(session, key), f"{PREFIX}{key_id}_{secret}")

    def list(self) -> builtins.list[ApiKeyView]:
        with self.db.reading() as session:
            return [self._view(session, r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))]

    def revoke(self, ident: str, *, actor: str) -> ApiKeyView:
        """Revoke a key by its number or its key id; at once, for every server (nothing is cached)."""
        now = self.clock.now()
        with self.db.writing() as session:
            row = self._find(session, ident)
            if row.revoked_at is None:
                row.revoked_at = now
                record_event(session, now, "api_key_revoked", username=actor, detail=f"{row.key_id} {row.name}"[:255])
                record_admin(session, now, actor, "apikey.revoke", row.key_id, {"name": row.name})
            session.flush()
            return self._view(session, row)

    def authenticate(self, token: str) -> ApiCaller | None:
        """The caller of a bearer token; None for a malformed, unknown or revoked key, a wrong secret, or a
        key whose user was deactivated (the API answers all of them alike)."""
        found = _TOKEN.fullmatch(token or "")
        if found is None:
            return None
        key_id, secret = found.groups()
        now = self.clock.now()
        with self.db.reading() as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()
            if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)) or row.revoked_at:
                return None
            user = None
            if row.user_id is not None:
                user_row = session.get(UserRow, row.user_id)
                if user_row is None or not user_row.active:
                    return None
                user = self.users._account(session, user_row)
            view = self._view(session, row, username=user.username if user else None)
            stale = row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY
        if stale:
            with self.db.writing() as session:
                session.execute(update(ApiKeyRow).where(ApiKeyRow.id == view.id).values(last_used_at=now))
        department = view.department or (user.department if user is not None else None)
        return ApiCaller(view, user, department)

    # -- helpers ------------------------------------------------------------------------------------
    @staticmethod
    def _find(session: Session, ident: str) -> ApiKeyRow:
        ident = ident.strip()
        if ident.isdigit():
            row = session.get(ApiKeyRow, int(ident))
        else:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == ident.removeprefix(PREFIX))).first()
        if row is None:
            raise NotFoundError.unknown("API key", ident)
        return row

    @staticmethod
    def _view(session: Session, row: ApiKeyRow, *, username: str | None = None) -> ApiKeyView:
        if username is None and row.user_id is not None:
            username = session.scalar(select(UserRow.username).where(UserRow.id == row.user_id))
        return ApiKeyView(
            id=row.id,
            key_id=row.key_id,
            name=row.name,
            username=username,
            department=row.department_code,
            scopes=tuple(row.scopes or ()),
            created_at=row.created_at,
            created_by=row.created_by,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )
