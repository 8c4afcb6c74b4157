"""The legal clock of a case: limits from the catalogue, counted from acceptance on the working calendar.

Special procedures (特别程序: hearing, testing, inspection, expert review …; 行政许可法 Art. 45) stop the
clock: the time they take, in the limit's unit, is added back. Extensions (延期, Art. 42) add working days
up to the legal cap: 10, or 15 where sections handle the matter jointly (Art. 26). Due dates are recomputed
on every change and stored on the case, so the worklist and the overdue report query them directly; and
every due date can be explained: start, limit, pauses, extensions, holidays and make-up days crossed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._config.catalogue import Limit
from .._errors import ConflictError, FieldError, NotFoundError, ValidationError
from .._services.history import NewEvent
from .._services.runtime import Runtime
from .._states import CASE_STATUS_LABELS, FINISHED_STATUSES, EventKind
from .._store.db import Database
from .._store.models import CaseRow, ClockExtensionRow, ClockPauseRow
from .clock import Clock
from .workcalendar import CHINA_TZ, DayInfo, Unit, WorkCalendar

__all__ = ["PAUSE_KINDS", "CaseClockService", "ClockView", "DueExplanation", "compute_due"]

PAUSE_KINDS = {
    "hearing": "听证",
    "testing": "检验检测",
    "inspection": "实地核查",
    "expert_review": "专家评审",
    "appraisal": "鉴定",
    "quarantine": "检疫",
    "tender": "招标拍卖",
    "other": "其他特别程序",
}
EXTENSION_CAP = 10  # working days, 行政许可法 Art. 42
JOINT_EXTENSION_CAP = 15  # joint handling by several sections, Art. 26 + 42


@dataclass(frozen=True)
class PauseSpan:
    kind: str
    reason: str
    started_at: datetime
    ended_at: datetime | None
    counted: float  # in the limit's unit (working days, natural days or working hours)


@dataclass(frozen=True)
class Extension:
    working_days: int
    approver: str
    reason: str
    granted_at: datetime


@dataclass(frozen=True)
class DueExplanation:
    which: str  # committed | legal
    start: datetime
    limit: Limit
    base_due: datetime
    pauses: list[PauseSpan]
    extensions: list[Extension]
    due: datetime
    crossed: list[DayInfo] = field(default_factory=list)
    unknown_years: list[int] = field(default_factory=list)  # years whose official schedule is not out

    @property
    def warnings(self) -> list[str]:
        return [
            f"{y}: official holiday schedule not published; make-up working days unknown" for y in self.unknown_years
        ]

    @property
    def paused(self) -> float:
        return sum(p.counted for p in self.pauses)

    @property
    def extended_days(self) -> int:
        return sum(e.working_days for e in self.extensions)

    def lines(self) -> list[str]:
        """The computation, step by step, for a clerk or an auditor."""
        local = "%Y-%m-%d %H:%M"
        out = [
            f"{self.which}: start {self.start.astimezone(CHINA_TZ):{local}} (acceptance) + {self.limit}"
            f" = {self.base_due.astimezone(CHINA_TZ):{local}}"
        ]
        for p in self.pauses:
            end = p.ended_at.astimezone(CHINA_TZ).strftime(local) if p.ended_at else "ongoing"
            out.append(
                f"  + {p.counted:g} {self.limit.unit} paused: {PAUSE_KINDS.get(p.kind, p.kind)} "
                f"{p.started_at.astimezone(CHINA_TZ):{local}} → {end} ({p.reason})"
            )
        for e in self.extensions:
            out.append(f"  + {e.working_days} working_days extension approved by {e.approver} ({e.reason})")
        for d in self.crossed:
            out.append(f"  crosses {d.day.isoformat()} {d.kind.value}{f' {d.name}' if d.name else ''}")
        out.append(f"  = due {self.due.astimezone(CHINA_TZ):{local}}")
        out.extend(f"  warning: {w}" for w in self.warnings)
        return out


def _counted(calendar: WorkCalendar, unit: str, start: datetime, end: datetime) -> float:
    if unit == Unit.WORKING_HOURS:
        return max(0.0, calendar.working_hours_between(start, end))
    a, b = start.astimezone(CHINA_TZ).date(), end.astimezone(CHINA_TZ).date()
    if unit == Unit.NATURAL_DAYS:
        return float(max(0, (b - a).days))
    return float(max(0, calendar.working_days_between(a, b)))


def compute_due(
    calendar: WorkCalendar,
    *,
    which: str,
    start: datetime,
    limit: Limit,
    pauses: list[tuple[str, str, datetime, datetime | None]],
    extensions: list[Extension],
    now: datetime,
) -> DueExplanation:
    """Due instant of ``limit`` from ``start``; an ongoing pause counts up to ``now``."""
    spans = [
        PauseSpan(kind, reason, began, ended, _counted(calendar, limit.unit, began, ended or max(now, began)))
        for kind, reason, began, ended in pauses
    ]
    paused = sum(p.counted for p in spans)
    ext_days = sum(e.working_days for e in extensions)
    base = calendar.due(start, limit.value, limit.unit)
    if limit.unit == Unit.WORKING_DAYS:
        due = calendar.due(start, limit.value + paused + ext_days, limit.unit)
    elif limit.unit == Unit.WORKING_HOURS:
        due = calendar.due(start, limit.value + paused + ext_days * calendar.office_hours.hours_per_day(), limit.unit)
    else:
        due = calendar.due(start, limit.value + paused, limit.unit)
        if ext_days:
            due = calendar.due(due, ext_days, Unit.WORKING_DAYS)
    first, last = start.astimezone(CHINA_TZ).date(), due.astimezone(CHINA_TZ).date()
    unknown = calendar.unknown_years(first, last)
    return DueExplanation(which, start, limit, base, spans, extensions, due, calendar.crossed(first, last), unknown)


@dataclass(frozen=True)
class ClockView:
    case_no: str
    status: str
    accepted_at: datetime | None
    paused_at: datetime | None
    committed: DueExplanation | None
    legal: DueExplanation | None
    extension_cap: int

    def to_dict(self) -> dict[str, Any]:
        def explain(e: DueExplanation | None) -> dict[str, Any] | None:
            if e is None:
                return None
            return {
                "start": e.start.isoformat(),
                "limit": str(e.limit),
                "base_due": e.base_due.isoformat(),
                "paused": e.paused,
                "extended_working_days": e.extended_days,
                "due": e.due.isoformat(),
                "pauses": [
                    {
                        "kind": p.kind,
                        "reason": p.reason,
                        "started_at": p.started_at.isoformat(),
                        "ended_at": p.ended_at.isoformat() if p.ended_at else None,
                        "counted": p.counted,
                    }
                    for p in e.pauses
                ],
                "extensions": [
                    {
                        "working_days": x.working_days,
                        "approver": x.approver,
                        "reason": x.reason,
                        "granted_at": x.granted_at.isoformat(),
                    }
                    for x in e.extensions
                ],
                "crossed": [{"day": d.day.isoformat(), "kind": d.kind.value, "name": d.name} for d in e.crossed],
                "warnings": e.warnings,
                "explanation": e.lines(),
            }

        return {
            "case_no": self.case_no,
            "status": self.status,
            "accepted_at": self.accepted_at.isoformat() if self.accepted_at else None,
            "paused_at": self.paused_at.isoformat() if self.paused_at else None,
            "extension_cap": self.extension_cap,
            "committed": explain(self.committed),
            "legal": explain(self.legal),
        }


class CaseClockService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, calendar: Callable[[], WorkCalendar]) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self._calendar = calendar

    # -- changes ------------------------------------------------------------------------------------
    def pause(self, case_no: str, *, kind: str, reason: str, actor: str) -> ClockView:
        if kind not in PAUSE_KINDS:
            raise ValidationError("pause", [FieldError("kind", f"'{kind}' is not one of {', '.join(PAUSE_KINDS)}")])
        _require_text("reason", reason)
        with self.db.writing() as session:
            row = self._open_case(session, case_no)
            if row.paused_at is not None:
                raise ConflictError(
                    f"case {case_no}: the clock is already paused since {_local(row.paused_at)}",
                    case_no=case_no,
                    state="paused",
                )
            now = self.clock.now()
            session.add(ClockPauseRow(case_id=row.id, kind=kind, reason=reason, started_at=now, started_by=actor))
            row.paused_at = now
            title = f"特别程序开始: {PAUSE_KINDS[kind]}"
            self._event(session, row, EventKind.CLOCK_PAUSED, actor, title, {"kind": kind, "reason": reason})
            return self._recompute(session, row, now)

    def resume(self, case_no: str, *, actor: str, result: str = "") -> ClockView:
        with self.db.writing() as session:
            row = self._open_case(session, case_no)
            pause = session.scalars(
                select(ClockPauseRow).where(ClockPauseRow.case_id == row.id, ClockPauseRow.ended_at.is_(None))
            ).first()
            if pause is None or row.paused_at is None:
                raise ConflictError(f"case {case_no}: the clock is not paused", case_no=case_no, state="running")
            now = self.clock.now()
            pause.ended_at, pause.ended_by, pause.result = now, actor, result
            row.paused_at = None
            self._event(
                session,
                row,
                EventKind.CLOCK_RESUMED,
                actor,
                f"特别程序结束: {PAUSE_KINDS[pause.kind]}",
                {"result": result},
            )
            return self._recompute(session, row, now)

    def extend(self, case_no: str, *, working_days: int, approver: str, reason: str, actor: str) -> ClockView:
        if working_days <= 0:
            raise ValidationError("extension", [FieldError("working_days", "must be a positive whole number")])
        _require_text("approver", approver)
        _require_text("reason", reason)
        with self.db.writing() as session:
            row = self._open_case(session, case_no)
            cap = self._cap(session, row)
            granted = sum(
                session.scalars(select(ClockExtensionRow.working_days).where(ClockExtensionRow.case_id == row.id))
            )
            if granted + working_days > cap:
                raise ConflictError(
                    f"case {case_no}: extension of {working_days} working days exceeds the legal cap of {cap} "
                    f"({granted} already granted; 行政许可法 Art. 42)",
                    case_no=case_no,
                    state=f"{granted} working days extended",
                )
            now = self.clock.now()
            session.add(
                ClockExtensionRow(
                    case_id=row.id,
                    working_days=working_days,
                    approver=approver,
                    reason=reason,
                    granted_at=now,
                    granted_by=actor,
                )
            )
            self._event(
                session,
                row,
                EventKind.CLOCK_EXTENDED,
                actor,
                f"延期 {working_days} 个工作日(批准: {approver})",
                {"working_days": working_days, "approver": approver, "reason": reason},
            )
            return self._recompute(session, row, now)

    def explain(self, case_no: str) -> ClockView:
        with self.db.reading() as session:
            row = _case(session, case_no)
            return self._view(session, row, self.clock.now())

    def refresh_paused(self) -> int:
        """Move the stored due dates of paused cases on to now (run by the timer loop); returns the count."""
        now = self.clock.now()
        with self.db.writing() as session:
            rows = session.scalars(select(CaseRow).where(CaseRow.paused_at.is_not(None))).all()
            for row in rows:
                self._recompute(session, row, now)
            return len(rows)

    # -- internals ----------------------------------------------------------------------------------
    def _open_case(self, session: Session, case_no: str) -> CaseRow:
        row = self.runtime.lock_case(session, _case(session, case_no).id)
        if row.accepted_at is None:
            raise ConflictError(
                f"case {case_no} is not accepted yet: the legal clock has not started",
                case_no=case_no,
                state=row.status,
            )
        if row.status in FINISHED_STATUSES:
            raise ConflictError(
                f"case {case_no} is finished ({CASE_STATUS_LABELS[row.status]})", case_no=case_no, state=row.status
            )
        return row

    def _cap(self, session: Session, row: CaseRow) -> int:
        matter = self.runtime.bundle(session, row.definition_id).matter
        return JOINT_EXTENSION_CAP if matter.co_sections else EXTENSION_CAP

    def view(self, session: Session, row: CaseRow, now: datetime) -> ClockView:
        """The clock of a case row read in the caller's session (the case page reads it with the rest)."""
        return self._view(session, row, now)

    def _view(self, session: Session, row: CaseRow, now: datetime) -> ClockView:
        matter = self.runtime.bundle(session, row.definition_id).matter
        committed = legal = None
        if row.accepted_at is not None:
            pauses = [
                (p.kind, p.reason, p.started_at, p.ended_at)
                for p in session.scalars(
                    select(ClockPauseRow).where(ClockPauseRow.case_id == row.id).order_by(ClockPauseRow.id)
                )
            ]
            extensions = [
                Extension(e.working_days, e.approver, e.reason, e.granted_at)
                for e in session.scalars(
                    select(ClockExtensionRow).where(ClockExtensionRow.case_id == row.id).order_by(ClockExtensionRow.id)
                )
            ]
            end, start, calendar = row.finished_at or now, row.accepted_at, self._calendar()
            committed, legal = (
                compute_due(
                    calendar, which=which, start=start, limit=limit, pauses=pauses, extensions=extensions, now=end
                )
                for which, limit in (("committed", matter.committed_limit), ("legal", matter.legal_limit))
            )
        cap = JOINT_EXTENSION_CAP if matter.co_sections else EXTENSION_CAP
        return ClockView(row.case_no, row.status, row.accepted_at, row.paused_at, committed, legal, cap)

    def _recompute(self, session: Session, row: CaseRow, now: datetime) -> ClockView:
        session.flush()
        view = self._view(session, row, now)
        if view.committed is not None and view.legal is not None:
            if row.committed_due_at != view.committed.due:
                row.committed_due_at = view.committed.due
                self.runtime.resort_tasks(session, row)
            row.legal_due_at = view.legal.due
        return view

    def _event(
        self, session: Session, row: CaseRow, kind: EventKind, actor: str, title: str, data: dict[str, Any]
    ) -> None:
        self.runtime.history.record(session, row.id, [NewEvent(kind, title, data=data)], actor=actor)


def _case(session: Session, case_no: str) -> CaseRow:
    row = session.scalars(select(CaseRow).where(CaseRow.case_no == case_no)).first()
    if row is None:
        raise NotFoundError.unknown("case", case_no)
    return row


def _require_text(name: str, value: str) -> None:
    if not value or not value.strip():
        raise ValidationError(name, [FieldError(name, "is required (必填)")])


def _local(at: datetime) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
