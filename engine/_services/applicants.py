"""Hall accounts: applicants, and agents (帮办代办) who apply on applicants' behalf.

An account is registered with a name, a 居民身份证号 (18 characters, its last one the GB 11643-1999 check
character), a mainland mobile number and a password under the staff's policy (length, the common-password
list, not the account's own numbers). It signs in with its mobile number or its ID number.

Sign-in answers a wrong password and an unknown login with the same error and the same hash work, so nobody
learns which numbers have accounts. Failures are counted on the shared rate counters (several servers, one
database): ``LockoutPolicy.failures`` failures lock the login for ``lock_for``, and while it is locked even
the right password is refused. Sessions are rows, as the staff's are: the browser holds a random token, the
table its SHA-256, and signing out ends the row.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .._errors import AuthenticationError, FieldError, NotFoundError, ValidationError
from .._store.db import Database
from .._store.hall_models import ApplicantRow, ApplicantSessionRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .access import LockoutPolicy, SessionPolicy
from .applications import OnlineApplications
from .rate_counters import RateCounters
from .security_records import record_event
from .users import _password_problems, hash_password, verify_password
from .views import CaseSummary

__all__ = ["APPLICANT_KINDS", "ApplicantService", "ApplicantView", "id_number_problem", "mask_id", "mask_mobile"]

APPLICANT_KINDS = ("applicant", "agent")
MOBILE = re.compile(r"1[3-9]\d{9}")
ID_NUMBER = re.compile(r"[1-9]\d{16}[\dX]")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643-1999: 2^(17-i) mod 11
CHECK_CHARS = "10X98765432"
MAX_NAME = 50
REFUSED = "手机号/身份证号或密码不正确 (wrong login or password)"


def id_number_problem(value: str, *, today: date | None = None) -> str | None:
    """Why ``value`` is not a valid 18-character 居民身份证号, or None. The check character is
    ``CHECK_CHARS[sum(digit_i × WEIGHTS_i) mod 11]``; the birth date (characters 7-14) must exist."""
    if not ID_NUMBER.fullmatch(value):
        return "must be 18 characters: 17 digits and a digit or X (应为 18 位,末位为数字或 X)"
    total = sum(int(d) * w for d, w in zip(value[:17], WEIGHTS, strict=True))
    if CHECK_CHARS[total % 11] != value[17]:
        return "check digit does not match (身份证号校验位不正确,请核对)"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "birth date in it does not exist (身份证号中的出生日期不正确)"
    if born.year < 1850 or (today is not None and born > today):
        return "birth date in it does not exist (身份证号中的出生日期不正确)"
    return None


def mask_id(id_number: str) -> str:
    """``510107********123X``: what people other than the window and the lead section see."""
    return id_number[:6] + "*" * 8 + id_number[14:] if len(id_number) == 18 else "*" * len(id_number)


def mask_mobile(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[7:] if len(mobile) == 11 else "*" * len(mobile)


@dataclass(frozen=True)
class ApplicantView:
    id: int
    kind: str  # applicant | agent
    name: str
    id_number: str
    mobile: str
    created_at: datetime
    disabled: bool = False

    @property
    def is_agent(self) -> bool:
        return self.kind == "agent"

    @property
    def id_number_masked(self) -> str:
        return mask_id(self.id_number)

    @property
    def mobile_masked(self) -> str:
        return mask_mobile(self.mobile)

    def to_dict(self) -> dict[str, Any]:
        """The account as its owner may read it (an API answer to the signed-in account)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "id_number": self.id_number,
            "mobile": self.mobile,
            "created_at": self.created_at.isoformat(),
            "disabled": self.disabled,
        }


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class ApplicantService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        applications: OnlineApplications,
        counters: RateCounters,
        *,
        lockout: LockoutPolicy | None = None,
        scrypt_n: int = 2**14,
    ) -> None:
        self.db = db
        self.clock = clock
        self.applications = applications
        self.counters = counters
        self.lockout = lockout or LockoutPolicy()
        self.scrypt_n = scrypt_n  # the cost of new hashes; tests lower it, stored hashes keep their own
        self._dummy: str | None = None

    # -- registering --------------------------------------------------------------------------------
    def register(self, kind: str, name: str, id_number: str, mobile: str, password: str) -> ApplicantView:
        """A new hall account; every problem is a field of one ``ValidationError``, a number already
        registered included (nothing is written then)."""
        name = (name or "").strip()
        id_number = (id_number or "").strip().upper()
        mobile = (mobile or "").strip()
        errors: list[FieldError] = []
        if kind not in APPLICANT_KINDS:
            errors.append(FieldError("kind", "must be applicant or agent (申请人或代办人)"))
        if not name or len(name) > MAX_NAME or any(not c.isprintable() for c in name):
            errors.append(FieldError("name", f"must be 1-{MAX_NAME} printable characters (请填写姓名)", "姓名"))
        if problem := id_number_problem(id_number, today=self.clock.now().astimezone(CHINA_TZ).date()):
            errors.append(FieldError("id_number", problem, "身份证号"))
        if not MOBILE.fullmatch(mobile):
            errors.append(FieldError("mobile", "must be 11 digits starting 13-19 (请填写 11 位手机号)", "手机号"))
        errors.extend(_password_problems(password or "", mobile))
        if not any(e.field == "password" for e in errors) and password.strip().upper() == id_number:
            errors.append(FieldError("password", "must not be the ID number (不能与身份证号相同)"))
        if errors:
            raise ValidationError("hall account", errors)
        password_hash = hash_password(password, n=self.scrypt_n)  # the slow hash outside the write
        try:
            with self.db.writing() as session:
                self._refuse_taken(session, id_number, mobile)
                row = ApplicantRow(
                    kind=kind,
                    name=name,
                    id_number=id_number,
                    mobile=mobile,
                    password_hash=password_hash,
                    created_at=self.clock.now(),
                    disabled=False,
                )
                session.add(row)
                session.flush()
                return _view(row)
        except IntegrityError:  # registered at the same moment by another request: the same answer
            with self.db.reading() as session:
                self._refuse_taken(session, id_number, mobile)
            raise

    @staticmethod
    def _refuse_taken(session: Session, id_number: str, mobile: str) -> None:
        taken = session.execute(
            select(ApplicantRow.id_number, ApplicantRow.mobile).where(
                or_(ApplicantRow.id_number == id_number, ApplicantRow.mobile == mobile)
            )
        ).all()
        errors = []
        if any(i == id_number for i, _ in taken):
            errors.append(FieldError("id_number", "is registered already (该身份证号已注册,请直接登录)", "身份证号"))
        if any(m == mobile for _, m in taken):
            errors.append(FieldError("mobile", "is registered already (该手机号已注册,请直接登录)", "手机号"))
        if errors:
            raise ValidationError("hall account", errors)

    # -- signing in ---------------------------------------------------------------------------------
    def authenticate(
        self, login: str, password: str, *, client: str = "", lockout: LockoutPolicy | None = None
    ) -> ApplicantView:
        """The account whose mobile or ID number is ``login``, if ``password`` is its password.

        ``AuthenticationError`` otherwise, with the same message for a wrong password, an unknown login and a
        disabled account; ``locked_until`` is set once too many failures have locked the login."""
        login = (login or "").strip().upper()[:32]
        lockout = lockout or self.lockout
        now = self.clock.now()
        with self.db.reading() as session:
            row = session.scalars(
                select(ApplicantRow).where(or_(ApplicantRow.mobile == login, ApplicantRow.id_number == login))
            ).first()
            found = _view(row) if row is not None else None
            stored = row.password_hash if row is not None else None
        # Failures count per account (both its logins), and per typed login when no account has it, so
        # unknown logins lock alike too.
        key = f"hall:{found.id}" if found is not None else "hall-login:" + hashlib.sha256(login.encode()).hexdigest()
        who = f"hall:{found.id}" if found is not None else "hall:unknown"
        locked = self.counters.get_expiry(f"{key}:locked", now.timestamp())
        if locked > now.timestamp():
            until = datetime.fromtimestamp(locked, tz=now.tzinfo)
            self._record("hall_sign_in_refused_locked", who, client, f"locked until {until:%H:%M}")
            raise AuthenticationError(REFUSED, locked_until=until)
        if stored is None:
            self._dummy = self._dummy or hash_password("not a password", n=self.scrypt_n)
            verify_password(password or "", self._dummy)  # the same work as a real check
        ok = stored is not None and verify_password(password or "", stored) and found is not None
        if ok and found is not None and not found.disabled:
            self.counters.clear(f"{key}:failures")
            self._record("hall_signed_in", who, client)
            return found
        failures = self.counters.incr(f"{key}:failures", lockout.lock_for.total_seconds(), now.timestamp())
        self._record("hall_sign_in_failed", who, client, "disabled" if ok else "")
        if failures >= lockout.failures:
            self.counters.clear(f"{key}:failures")
            self.counters.incr(f"{key}:locked", lockout.lock_for.total_seconds(), now.timestamp())
            until = now + lockout.lock_for
            self._record("hall_account_locked", who, client, f"{failures} failures; locked until {until:%H:%M}")
            raise AuthenticationError(REFUSED, locked_until=until)
        raise AuthenticationError(REFUSED)

    def _record(self, kind: str, who: str, client: str, detail: str = "") -> None:
        with self.db.writing() as session:
            record_event(session, self.clock.now(), kind, who, client, detail)

    # -- sessions -----------------------------------------------------------------------------------
    def start_session(self, applicant_id: int, *, client: str = "") -> str:
        """A new session of the account: the token for its cookie (or an app's ``Authorization`` header)."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.db.writing() as session:
            if session.get(ApplicantRow, applicant_id) is None:
                raise NotFoundError.unknown("applicant", str(applicant_id))
            session.add(
                ApplicantSessionRow(
                    token_hash=_digest(token),
                    applicant_id=applicant_id,
                    created_at=now,
                    last_seen_at=now,
                    client=client[:64],
                )
            )
        return token

    def resume(self, token: str, policy: SessionPolicy | None = None) -> ApplicantView | None:
        """The account of an open session, or None (an ended, timed-out or disabled one)."""
        if not token:
            return None
        policy = policy or SessionPolicy()
        now = self.clock.now()
        digest = _digest(token)
        with self.db.reading() as session:
            row = session.scalars(select(ApplicantSessionRow).where(ApplicantSessionRow.token_hash == digest)).first()
            if row is None or row.ended_at is not None:
                return None
            account = session.get(ApplicantRow, row.applicant_id)
            view = _view(account) if account is not None and not account.disabled else None
            created, seen = row.created_at, row.last_seen_at
        if view is None or now - created >= policy.absolute or now - seen >= policy.idle:
            self.end_session(token)
            return None
        if now - seen >= policy.touch_every:
            with self.db.writing() as session:
                session.execute(
                    update(ApplicantSessionRow).where(ApplicantSessionRow.token_hash == digest).values(last_seen_at=now)
                )
        return view

    def end_session(self, token: str) -> None:
        with self.db.writing() as session:
            session.execute(
                update(ApplicantSessionRow)
                .where(ApplicantSessionRow.token_hash == _digest(token), ApplicantSessionRow.ended_at.is_(None))
                .values(ended_at=self.clock.now())
            )

    # -- reading ------------------------------------------------------------------------------------
    def get(self, applicant_id: int) -> ApplicantView:
        with self.db.reading() as session:
            row = session.get(ApplicantRow, applicant_id)
            if row is None:
                raise NotFoundError.unknown("applicant", str(applicant_id))
            return _view(row)

    def cases_of(self, applicant_id: int) -> list[CaseSummary]:
        """The cases the account applied for online, for itself or (an agent) for others, newest first."""
        return self.applications.cases_of(applicant_id)

    def set_disabled(self, applicant_id: int, disabled: bool = True) -> ApplicantView:
        """Disable (or enable again) an account; a disabled account's sessions end at once."""
        now = self.clock.now()
        with self.db.writing() as session:
            row = session.get(ApplicantRow, applicant_id)
            if row is None:
                raise NotFoundError.unknown("applicant", str(applicant_id))
            row.disabled = disabled
            if disabled:
                session.execute(
                    update(ApplicantSessionRow)
                    .where(ApplicantSessionRow.applicant_id == applicant_id, ApplicantSessionRow.ended_at.is_(None))
                    .values(ended_at=now)
                )
            session.flush()
            return _view(row)


def _view(row: ApplicantRow) -> ApplicantView:
    return ApplicantView(
        id=row.id,
        kind=row.kind,
        name=row.name,
        id_number=row.id_number,
        mobile=row.mobile,
        created_at=row.created_at,
        disabled=row.disabled,
    )
