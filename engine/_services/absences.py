"""AB岗 (A/B post): while a staff member is away, a named colleague covers his work.

One of the three rules of a service hall with 首问负责 and 限时办结: a step must not wait for a clerk who is on
leave. A section's chief (or an administrator) records the absence, whole days in China time, and the
colleague who covers it (B岗, who must work in one of the same sections). On its first day — at once when it is
recorded on or after that day, else when the timer runner's round reaches it — the steps the absent clerk had
claimed go to the colleague, each with a 改派 in its case's history; a step the colleague may not take (another
section, or 四眼原则) goes back to its section unclaimed instead. While the absence lasts nobody can give the
absent clerk a step, and he cannot claim one: 销假 (ending it early) lets him work again. What was handed over
stays with the colleague; the chief reassigns it if he wants it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from .._errors import FieldError, NotFoundError, PermissionDeniedError, StaffAbsentError, ValidationError
from .._states import EventKind, TaskState
from .._store.clerk_models import AbsenceRow
from .._store.db import Database
from .._store.models import TaskRow, UserRow, UserSectionRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .admin_log import record_admin
from .four_eyes import four_eyes_conflict
from .history import NewEvent
from .runtime import Runtime
from .users import UserAccount

__all__ = [
    "ABSENCE_PROBLEMS",
    "MAX_ABSENCE_DAYS",
    "Absence",
    "AbsenceService",
    "HandedOver",
    "absent_on",
    "refuse_absent",
]

MAX_ABSENCE_DAYS = 366  # one record; a longer absence is a change of post, not a leave
MAX_REASON = 200

# The problems a record can have, by field: the worklist shows each in the reader's language.
NO_SUCH_PERSON = "is not an active member of staff"
SAME_PERSON = "is the absent person"
NO_SHARED_SECTION = "shares no section with the absent person"
BACKUP_AWAY = "is away on some of these days"
ALREADY_AWAY = "is away on some of these days already"
ENDS_BEFORE_START = "is before the first day"
ALREADY_OVER = "has passed"
TOO_LONG = f"more than {MAX_ABSENCE_DAYS} days"
EMPTY = "must not be empty"
REASON_TOO_LONG = f"at most {MAX_REASON} characters"
ABSENCE_PROBLEMS = (
    NO_SUCH_PERSON,
    SAME_PERSON,
    NO_SHARED_SECTION,
    BACKUP_AWAY,
    ALREADY_AWAY,
    ENDS_BEFORE_START,
    ALREADY_OVER,
    TOO_LONG,
    EMPTY,
    REASON_TOO_LONG,
)


@dataclass(frozen=True)
class Absence:
    id: int
    username: str
    backup: str
    starts_on: date
    ends_on: date
    reason: str
    recorded_by: str
    recorded_at: datetime
    handed_over_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None

    @property
    def last_day(self) -> date:
        """The last day it covers: ``ends_on``, or the day of 销假 when it was ended early."""
        if self.ended_at is None:
            return self.ends_on
        return min(self.ends_on, self.ended_at.astimezone(CHINA_TZ).date())

    def status(self, today: date) -> str:
        """upcoming | current | over (over also when ended early)."""
        if self.ended_at is not None or self.ends_on < today:
            return "over"
        return "current" if self.starts_on <= today else "upcoming"


@dataclass(frozen=True)
class HandedOver:
    """One claimed step an absence moved: to the colleague, or back to its section (``to`` None)."""

    task_id: str
    case_no: str
    step: str
    absent: str
    to: str | None


def _absence(row: AbsenceRow) -> Absence:
    return Absence(
        row.id,
        row.username,
        row.backup,
        row.starts_on,
        row.ends_on,
        row.reason,
        row.recorded_by,
        row.recorded_at,
        row.handed_over_at,
        row.ended_at,
        row.ended_by,
    )


def _open_on(day: date) -> list[ColumnElement[bool]]:
    """The conditions of an absence that covers ``day`` and was not ended."""
    return [AbsenceRow.starts_on <= day, AbsenceRow.ends_on >= day, AbsenceRow.ended_at.is_(None)]


def absent_on(session: Session, username: str, day: date) -> Absence | None:
    """The absence of ``username`` that covers ``day``, if any (a claim and a reassignment ask it)."""
    row = session.scalars(select(AbsenceRow).where(AbsenceRow.username == username, *_open_on(day)).limit(1)).first()
    return _absence(row) if row is not None else None


def refuse_absent(session: Session, username: str, now: datetime, *, what: str) -> None:
    """Raise ``StaffAbsentError`` when ``username`` is away today (China time): a claim or a reassignment."""
    away = absent_on(session, username, now.astimezone(CHINA_TZ).date())
    if away is not None:
        raise StaffAbsentError(
            f"{username} is away until {away.ends_on.isoformat()} (AB岗: {away.backup} covers); cannot {what}",
            username=username,
            until=away.ends_on,
            backup=away.backup,
        )


class AbsenceService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime

    def today(self) -> date:
        return self.clock.now().astimezone(CHINA_TZ).date()

    # -- reading -----------------------------------------------------------------------------------------
    def visible_to(self, user: UserAccount, *, include_over: bool = False) -> list[Absence]:
        """The absences of the people of ``user``'s sections (an administrator's, an auditor's: everyone's),
        current and upcoming first by their first day; with ``include_over`` the last 90 days' too."""
        today = self.today()
        with self.db.reading() as session:
            query = select(AbsenceRow).order_by(AbsenceRow.starts_on, AbsenceRow.id)
            if not include_over:
                query = query.where(AbsenceRow.ends_on >= today, AbsenceRow.ended_at.is_(None))
            else:
                query = query.where(AbsenceRow.ends_on >= date.fromordinal(today.toordinal() - 90))
            if not (user.is_admin or user.reads_all):
                colleagues = (
                    select(UserRow.username)
                    .join(UserSectionRow, UserSectionRow.user_id == UserRow.id)
                    .where(UserSectionRow.section_code.in_(user.sections))
                )
                query = query.where(AbsenceRow.username.in_(colleagues))
            return [_absence(r) for r in session.scalars(query)]

    def current(self) -> dict[str, Absence]:
        """Who is away today, by user name (the worklist marks them in its reassign choices)."""
        with self.db.glance() as session:
            rows = session.scalars(select(AbsenceRow).where(*_open_on(self.today())))
            return {r.username: _absence(r) for r in rows}

    def get(self, absence_id: int) -> Absence:
        with self.db.reading() as session:
            row = session.get(AbsenceRow, absence_id)
            if row is None:
                raise NotFoundError.unknown("absence", str(absence_id))
            return _absence(row)

    # -- recording ---------------------------------------------------------------------------------------
    def record(
        self, username: str, *, starts_on: date, ends_on: date, backup: str, reason: str, by: UserAccount
    ) -> tuple[Absence, list[HandedOver]]:
        """Record ``username``'s absence from ``starts_on`` to ``ends_on`` (whole days, both included), covered
        by ``backup``; by a chief of one of his sections, or an administrator. Recorded on or after its first
        day, the steps he had claimed are handed over in the same transaction."""
        today = self.today()
        why = reason.strip()
        what = f"absence of {username}"
        with self.db.writing() as session:
            sections = self._sections(session, username)
            if not by.is_admin and not any(by.chief_of(s) for s in sections or ()):
                raise PermissionDeniedError(
                    f"only a chief of {username}'s sections or an administrator records his absence",
                    user=by.username,
                    what=f"record the absence of {username}",
                )
            problems: list[FieldError] = []
            if sections is None:
                problems.append(FieldError("username", NO_SUCH_PERSON))
            backup_sections = self._sections(session, backup) if backup else None
            if not backup or backup_sections is None:
                problems.append(FieldError("backup", NO_SUCH_PERSON))
            elif backup == username:
                problems.append(FieldError("backup", SAME_PERSON))
            elif sections is not None and not set(sections) & set(backup_sections):
                problems.append(FieldError("backup", NO_SHARED_SECTION))
            if ends_on < starts_on:
                problems.append(FieldError("ends_on", ENDS_BEFORE_START))
            elif ends_on < today:
                problems.append(FieldError("ends_on", ALREADY_OVER))
            elif (ends_on - starts_on).days >= MAX_ABSENCE_DAYS:
                problems.append(FieldError("ends_on", TOO_LONG))
            if not why:
                problems.append(FieldError("reason", EMPTY))
            elif len(why) > MAX_REASON:
                problems.append(FieldError("reason", REASON_TOO_LONG))
            if not problems:
                if self._overlapping(session, username, starts_on, ends_on):
                    problems.append(FieldError("starts_on", ALREADY_AWAY))
                if self._overlapping(session, backup, starts_on, ends_on):
                    problems.append(FieldError("backup", BACKUP_AWAY))
            if problems:
                raise ValidationError(what, problems)
            now = self.clock.now()
            row = AbsenceRow(
                username=username,
                backup=backup,
                starts_on=starts_on,
                ends_on=ends_on,
                reason=why,
                recorded_by=by.username,
                recorded_at=now,
            )
            session.add(row)
            session.flush()
            record_admin(
                session,
                now,
                by.username,
                "absence.record",
                username,
                {"id": row.id, "backup": backup, "from": starts_on.isoformat(), "to": ends_on.isoformat()},
            )
            moved = self._hand_over(session, row, now, by.username) if starts_on <= today else []
            return _absence(row), moved

    def end(self, absence_id: int, *, by: UserAccount) -> Absence:
        """销假: the absent person is back before the last day; he can claim and be given steps again."""
        with self.db.writing() as session:
            row = session.get(AbsenceRow, absence_id, with_for_update=True)
            if row is None:
                raise NotFoundError.unknown("absence", str(absence_id))
            sections = self._sections(session, row.username) or ()
            if not by.is_admin and not any(by.chief_of(s) for s in sections) and by.username != row.username:
                raise PermissionDeniedError(
                    f"only {row.username}, a chief of his sections or an administrator ends his absence",
                    user=by.username,
                    what=f"end absence {absence_id}",
                )
            if row.ended_at is not None or row.ends_on < self.today():
                return _absence(row)  # over already: nothing to end
            now = self.clock.now()
            row.ended_at, row.ended_by = now, by.username
            record_admin(session, now, by.username, "absence.end", row.username, {"id": row.id})
            return _absence(row)

    def hand_over_started(self, *, actor: str = "timer") -> list[HandedOver]:
        """The timer runner's round: hand over the claimed steps of every absence whose first day has come and
        whose hand-over has not run yet, each absence in its own transaction (several runners: each once)."""
        today = self.today()
        moved: list[HandedOver] = []
        seen: set[int] = set()
        while True:
            with self.db.writing() as session:
                query = (
                    select(AbsenceRow)
                    .where(AbsenceRow.handed_over_at.is_(None), AbsenceRow.id.not_in(seen), *_open_on(today))
                    .order_by(AbsenceRow.id)
                    .limit(1)
                )
                if not self.db.is_sqlite:
                    query = query.with_for_update(skip_locked=True)
                row = session.scalars(query).first()
                if row is None:
                    return moved
                seen.add(row.id)
                moved.extend(self._hand_over(session, row, self.clock.now(), actor))

    # -- helpers -----------------------------------------------------------------------------------------
    def _sections(self, session: Session, username: str) -> tuple[str, ...] | None:
        """The sections of an active member of staff, or None when there is no such active account."""
        user_id = session.scalar(select(UserRow.id).where(UserRow.username == username, UserRow.active.is_(True)))
        if user_id is None:
            return None
        found = session.scalars(select(UserSectionRow.section_code).where(UserSectionRow.user_id == user_id))
        return tuple(sorted(found))

    def _overlapping(self, session: Session, username: str, starts_on: date, ends_on: date) -> bool:
        return (
            session.scalar(
                select(AbsenceRow.id)
                .where(
                    AbsenceRow.username == username,
                    AbsenceRow.starts_on <= ends_on,
                    AbsenceRow.ends_on >= starts_on,
                    AbsenceRow.ended_at.is_(None),
                )
                .limit(1)
            )
            is not None
        )

    def _hand_over(self, session: Session, absence: AbsenceRow, now: datetime, actor: str) -> list[HandedOver]:
        """Move every READY step ``absence.username`` claimed, in case order (the cases are locked one after the
        other, as every step locks its own), and mark the absence handed over."""
        backup_sections = set(self._sections(session, absence.backup) or ())
        claimed = session.execute(
            select(TaskRow.id, TaskRow.case_id)
            .where(TaskRow.claimed_by == absence.username, TaskRow.state == TaskState.READY)
            .order_by(TaskRow.case_id, TaskRow.id)
        ).all()
        moved: list[HandedOver] = []
        for task_id, case_id in claimed:
            case = self.runtime.lock_case(session, case_id)
            task = session.get(TaskRow, task_id, populate_existing=True)
            if task is None or task.state != TaskState.READY or task.claimed_by != absence.username:
                continue  # completed or unclaimed meanwhile
            to: str | None = absence.backup
            if task.section_code not in backup_sections:
                to = None
            else:
                matter = self.runtime.bundle(session, case.definition_id).matter
                done = session.execute(
                    select(TaskRow.bpmn_id, TaskRow.completed_by, TaskRow.name).where(
                        TaskRow.case_id == case_id, TaskRow.state == TaskState.COMPLETED
                    )
                ).all()
                if four_eyes_conflict(matter, task.bpmn_id, [(r[0], r[1], r[2]) for r in done], absence.backup):
                    to = None
            task.claimed_by = to
            note = f"AB岗: {absence.username} 休假 {absence.starts_on:%m-%d} 至 {absence.ends_on:%m-%d}"
            event = NewEvent(
                EventKind.TASK_REASSIGNED,
                f"改派: {task.name} → {to or '待认领'}(理由: {note})",
                task_id=task.id,
                section=task.section_code,
                data={"from": absence.username, "to": to, "reason": note, "absence": absence.id},
            )
            session.flush()
            self.runtime.history.record(session, case_id, [event], actor=actor)
            moved.append(HandedOver(task.id, case.case_no, task.name, absence.username, to))
        absence.handed_over_at = now
        return moved
