"""Users of the worklist: accounts, their sections and role, and passwords.

Passwords are hashed with the standard library's scrypt and a random salt, stored as one self-describing
string (``scrypt$n$r$p$salt$hash``, base64) so the cost can be raised later without a schema change:
``verify_password`` reads the parameters from the stored string.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._config.bureau import ROLES, department_queue
from .._config.service_points import HALL
from .._errors import FieldError, NotFoundError, ValidationError
from .._store.db import Database
from .._store.models import DepartmentRow, SectionRow, UserRow, UserSectionRow
from .._time.clock import Clock
from .admin_log import record_admin
from .security_records import end_user_sessions, record_event

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "UserAccount",
    "UserService",
    "common_passwords",
    "hash_password",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 8
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # ~16 MiB and ~50 ms per hash on the target machine


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 1024 * 1024)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check of ``password`` against a stored ``hash_password`` string."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 1024 * 1024,
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class UserAccount:
    id: int
    username: str
    display_name: str
    role: str  # clerk | chief | admin | supervisor | auditor (稽核) | inspector (纪检, reads only)
    active: bool
    sections: tuple[str, ...]
    has_password: bool = False
    # Changes whenever the password does: a web session remembers it, so a new password ends old sessions.
    fingerprint: str = ""
    department: str | None = None  # a supervisor's supervising department
    point: str = HALL  # the service point whose windows the user works at (bureau.toml [[points]])

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor" and self.department is not None

    @property
    def work_queues(self) -> tuple[str, ...]:
        """Where the user's tasks wait: his sections, and a supervisor's department (现场踏勘's liaison step)."""
        if self.is_supervisor and self.department:
            return (*self.sections, department_queue(self.department))
        return self.sections

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_auditor(self) -> bool:
        return self.role == "auditor"

    @property
    def is_inspector(self) -> bool:
        """纪检: reads every page of the worklist and changes nothing."""
        return self.role == "inspector"

    @property
    def reads_all(self) -> bool:
        """Opens every case and task page, whatever the section: an auditor (稽核) and 纪检."""
        return self.role in ("auditor", "inspector")

    @property
    def is_chief(self) -> bool:
        return self.role == "chief"

    def chief_of(self, section: str | None) -> bool:
        return self.is_chief and section is not None and section in self.sections


def _fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16] if password_hash else ""


class UserService:
    def __init__(
        self, db: Database, clock: Clock, *, scrypt_n: int = SCRYPT_N, points: Sequence[str] = (HALL,)
    ) -> None:
        self.points = tuple(points)  # the codes of bureau.toml's service points
        self.db = db
        self.clock = clock
        self.scrypt_n = scrypt_n  # the cost of new hashes; tests lower it, stored hashes keep their own
        self._dummy: str | None = None

    # -- reading ------------------------------------------------------------------------------------
    def get(self, username: str) -> UserAccount:
        with self.db.reading() as session:
            return self._account(session, self._row(session, username))

    def find(self, username: str) -> UserAccount | None:
        """The active account of ``username``, or None (a web session of a removed user ends)."""
        with self.db.reading() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            return self._account(session, row) if row is not None and row.active else None

    def list_users(self) -> list[UserAccount]:
        with self.db.reading() as session:
            rows = session.scalars(select(UserRow).order_by(UserRow.username)).all()
            sections = self._sections_of(session, [r.id for r in rows])
            return [self._account(session, r, sections.get(r.id, ())) for r in rows]

    def members(self, sections: Sequence[str]) -> dict[str, list[UserAccount]]:
        """Active members of each of ``sections`` (for a chief's reassign list), in two queries."""
        if not sections:
            return {}
        with self.db.reading() as session:
            pairs = session.execute(
                select(UserSectionRow.section_code, UserRow)
                .join(UserRow, UserRow.id == UserSectionRow.user_id)
                .where(UserSectionRow.section_code.in_(sections), UserRow.active.is_(True))
                .order_by(UserRow.username)
            ).all()
            all_sections = self._sections_of(session, list({u.id for _, u in pairs}))
            out: dict[str, list[UserAccount]] = {s: [] for s in sections}
            for code, user in pairs:
                out[code].append(self._account(session, user, all_sections.get(user.id, ())))
            return out

    def display_names(self, usernames: set[str]) -> dict[str, str]:
        if not usernames:
            return {}
        with self.db.reading() as session:
            rows = session.execute(
                select(UserRow.username, UserRow.display_name).where(UserRow.username.in_(usernames))
            ).all()
            return {u: n for u, n in rows}

    # -- writing ------------------------------------------------------------------------------------
    def add(
        self,
        username: str,
        *,
        sections: Sequence[str],
        role: str = "clerk",
        display_name: str | None = None,
        password: str | None = None,
        active: bool = True,
        department: str | None = None,
        point: str | None = None,
        actor: str = "",
    ) -> UserAccount:
        """Create or update an account; its sections are replaced by ``sections``. A supervisor belongs to a
        supervising ``department`` instead of sections. ``point``: the service point whose windows the user
        works at (None: a new account works at the district hall, an existing one keeps its point)."""
        username = username.strip()
        errors: list[FieldError] = []
        if not username or len(username) > 64 or any(c.isspace() for c in username):
            errors.append(FieldError("username", "must be 1-64 characters without spaces"))
        if role not in ROLES:
            errors.append(FieldError("role", f"must be one of {', '.join(ROLES)}"))
        if role == "supervisor":
            if not department:
                errors.append(FieldError("department", "a supervisor needs a supervising department"))
        elif role not in ("admin", "auditor", "inspector") and not sections:
            errors.append(FieldError("sections", "a clerk or chief needs at least one section"))
        if point is not None and point not in self.points:
            errors.append(FieldError("point", f"unknown service point '{point}'; known: {', '.join(self.points)}"))
        if password is not None:
            errors.extend(_password_problems(password, username))
        if errors:
            raise ValidationError(f"user '{username}'", errors)
        with self.db.writing() as session:
            known = set(session.scalars(select(SectionRow.code)))
            unknown = [s for s in sections if s not in known]
            if unknown:
                raise NotFoundError(
                    f"unknown section(s) {', '.join(unknown)}; known: {', '.join(sorted(known)) or 'none'}"
                    + ("" if known else " (run 'onewindow deploy' first)"),
                    kind="section",
                    key=", ".join(unknown),
                )
            if department is not None and role == "supervisor" and session.get(DepartmentRow, department) is None:
                known_departments = ", ".join(sorted(session.scalars(select(DepartmentRow.code)))) or "none"
                raise NotFoundError(
                    f"unknown department {department}; known: {known_departments}", kind="department", key=department
                )
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            created = row is None
            if row is None:
                row = UserRow(username=username, display_name=display_name or username, role=role, active=active)
                session.add(row)
                session.flush()
            else:
                if row.active and not active:  # a deactivated account is signed out everywhere at once
                    now = self.clock.now()
                    end_user_sessions(session, row.id, now, "account deactivated")
                    record_event(session, now, "account_deactivated", username)
                row.role, row.active = role, active
                if display_name:
                    row.display_name = display_name
            row.department_code = department if role == "supervisor" else None
            if point is not None:
                row.point_code = None if point == HALL else point
            if password is not None:
                if row.password_hash and end_user_sessions(session, row.id, self.clock.now(), "password changed"):
                    record_event(session, self.clock.now(), "password_changed", username, detail="sessions ended")
                row.password_hash = hash_password(password, n=self.scrypt_n)
            current = set(session.scalars(select(UserSectionRow.section_code).where(UserSectionRow.user_id == row.id)))
            for code in current - set(sections):
                session.delete(session.get(UserSectionRow, (row.id, code)))
            for code in dict.fromkeys(sections):
                if code not in current:
                    session.add(UserSectionRow(user_id=row.id, section_code=code))
            session.flush()
            account = self._account(session, row)
            # Who changed the account and how, never the password itself.
            detail = {
                "role": account.role,
                "sections": list(account.sections),
                "department": row.department_code,
                "point": account.point,
                "active": account.active,
                "password_set": password is not None,
            }
            record_admin(session, self.clock.now(), actor, "user.add" if created else "user.update", username, detail)
            return account

    def set_password(self, username: str, password: str, *, actor: str = "") -> None:
        """Set the password; every open web session of the user ends in the same transaction."""
        problems = _password_problems(password, username)
        if problems:
            raise ValidationError(f"password of '{username}'", problems)
        with self.db.writing() as session:
            row = self._row(session, username)
            row.password_hash = hash_password(password, n=self.scrypt_n)
            now = self.clock.now()
            ended = end_user_sessions(session, row.id, now, "password changed")
            record_event(session, now, "password_changed", username, detail=f"{ended} session(s) ended")
            record_admin(session, now, actor or username, "user.password", username, {"sessions_ended": ended})

    def authenticate(self, username: str, password: str) -> UserAccount | None:
        """The account if the password is right and the account active; None otherwise.

        An unknown user costs the same hash as a known one, so timing does not tell which names exist.
        """
        with self.db.reading() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username.strip())).first()
            if row is None or not row.password_hash:
                self._dummy = self._dummy or hash_password("not a password", n=self.scrypt_n)
                verify_password(password, self._dummy)
                return None
            if not verify_password(password, row.password_hash) or not row.active:
                return None
            return self._account(session, row)

    # -- helpers ------------------------------------------------------------------------------------
    def _row(self, session: Session, username: str) -> UserRow:
        row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            raise NotFoundError.unknown("user", username)
        return row

    def _sections_of(self, session: Session, user_ids: list[int]) -> dict[int, tuple[str, ...]]:
        if not user_ids:
            return {}
        out: dict[int, list[str]] = {}
        for uid, code in session.execute(
            select(UserSectionRow.user_id, UserSectionRow.section_code)
            .where(UserSectionRow.user_id.in_(user_ids))
            .order_by(UserSectionRow.section_code)
        ):
            out.setdefault(uid, []).append(code)
        return {k: tuple(v) for k, v in out.items()}

    def _account(self, session: Session, row: UserRow, sections: tuple[str, ...] | None = None) -> UserAccount:
        if sections is None:
            sections = self._sections_of(session, [row.id]).get(row.id, ())
        return UserAccount(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            role=row.role,
            active=row.active,
            sections=sections,
            has_password=bool(row.password_hash),
            fingerprint=_fingerprint(row.password_hash),
            department=row.department_code,
            point=row.point_code or HALL,
        )


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (``common_passwords.txt`` beside this module), lower-cased."""
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _password_problems(password: str, username: str = "") -> list[FieldError]:
    """Length first, then the list of common passwords and the user's own name (NIST SP 800-63B 5.1.1.2:
    no composition rules, a blocklist instead)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [
            FieldError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters (至少 {MIN_PASSWORD_LENGTH} 位)")
        ]
    if password.strip().lower() in common_passwords():
        return [FieldError("password", "is one of the most common passwords (常见密码，容易被猜中，请换一个)")]
    if username and password.strip().lower() == username.strip().lower():
        return [FieldError("password", "must not be the user name (不能与用户名相同)")]
    return []
