"""The legal clock of a case, kept: special procedures (特别程序) pause it and resume it, extensions (延期)
are granted up to the legal cap, and the stored due dates are recomputed in the same transaction. The
arithmetic is ``_time/case_clock.py``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .._errors import ConflictError, FieldError, NotFoundError, ValidationError
from .._states import CASE_STATUS_LABELS, FINISHED_STATUSES, CaseStatus, EventKind, TaskState
from .._store.db import Database
from .._store.models import CaseRow, ClockExtensionRow, ClockPauseRow, TaskRow
from .._time.case_clock import (
    ART45_KINDS,
    EXTENSION_CAP,
    JOINT_EXTENSION_CAP,
    PAUSE_KINDS,
    ClockView,
    Extension,
    compute_due,
    step_due_after_pauses,
)
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ, WorkCalendar, parse_limit
from .case_state import CaseState
from .history import NewEvent
from .runtime import INTAKE_LIMIT, Runtime

LICENCE_TYPE = "01"  # GB/T 39046 事项类型 行政许可: the 行政许可法's consequences bind licences only
ART32 = "《中华人民共和国行政许可法》第三十二条"

__all__ = ["CaseClockService"]


class CaseClockService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, calendar: Callable[[], WorkCalendar]) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self._calendar = calendar
        # Issues the 延期通知书 of a granted extension in its transaction (DocumentService).
        self.on_extended: Callable[..., None] | None = None
        # Issues the 特别程序告知书 of a started special procedure in its transaction (DocumentService).
        self.on_paused: Callable[..., None] | None = None
        # Tells the applicant that the application counts as accepted, in its transaction (NotificationService).
        self.on_deemed_accepted: Callable[[Session, CaseRow, datetime], None] | None = None

    # -- changes ------------------------------------------------------------------------------------
    def pause(self, case_no: str, *, kind: str, reason: str, actor: str) -> ClockView:
        if kind not in PAUSE_KINDS:
            raise ValidationError("pause", [FieldError("kind", f"'{kind}' is not one of {', '.join(PAUSE_KINDS)}")])
        _require_text("reason", reason)
        with self.db.writing() as session:
            row = self._open_case(session, case_no)
            basis = self._legal_basis(session, row, kind)
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
            data = {"kind": kind, "reason": reason, "basis": basis}
            self._event(session, row, EventKind.CLOCK_PAUSED, actor, title, data)
            view = self._recompute(session, row, now)
            if self.on_paused is not None:  # the applicant is told in writing (Art. 45)
                self.on_paused(session, row, PAUSE_KINDS[kind], reason, basis, actor)
            return view

    def pause_in(
        self, session: Session, row: CaseState, *, kind: str, reason: str, actor: str, at: datetime
    ) -> NewEvent:
        """``pause`` inside a step of the case (a pattern's service task stops the clock as it starts a special
        procedure): the caller holds the case's lock and writes the returned event with the step's."""
        if row.accepted_at is None:
            raise ConflictError(
                f"case {row.case_no} is not accepted yet: the legal clock has not started, so it cannot stop",
                case_no=row.case_no,
                state=row.status,
            )
        if row.paused_at is not None:
            raise ConflictError(
                f"case {row.case_no}: the clock is already paused since {_local(row.paused_at)}",
                case_no=row.case_no,
                state="paused",
            )
        basis = self._legal_basis(session, row, kind)
        assert row.id is not None
        session.add(ClockPauseRow(case_id=row.id, kind=kind, reason=reason, started_at=at, started_by=actor))
        session.execute(update(CaseRow).where(CaseRow.id == row.id).values(paused_at=at))
        row.paused_at = at
        self._recompute(session, row, at)
        data = {"kind": kind, "reason": reason, "basis": basis}
        return NewEvent(EventKind.CLOCK_PAUSED, f"特别程序开始: {PAUSE_KINDS[kind]}", data=data)

    def resume_in(self, session: Session, row: CaseState, *, actor: str, result: str, at: datetime) -> NewEvent | None:
        """``resume`` inside a step of the case; None when the clock was not paused (an officer resumed it)."""
        pause = session.scalars(
            select(ClockPauseRow).where(ClockPauseRow.case_id == row.id, ClockPauseRow.ended_at.is_(None))
        ).first()
        if pause is None or row.paused_at is None:
            return None
        pause.ended_at, pause.ended_by, pause.result = at, actor, result
        session.execute(update(CaseRow).where(CaseRow.id == row.id).values(paused_at=None))
        row.paused_at = None
        self._recompute(session, row, at)
        return NewEvent(EventKind.CLOCK_RESUMED, f"特别程序结束: {PAUSE_KINDS[pause.kind]}", data={"result": result})

    def _legal_basis(self, session: Session, row: CaseRow | CaseState, kind: str) -> str:
        """Why this procedure's time does not count: Art. 45, or the law the matter's catalogue names."""
        if kind in ART45_KINDS:
            return "《中华人民共和国行政许可法》第四十五条"
        matter = self.runtime.bundle(session, row.definition_id).matter
        named = matter.extra.get("special_procedures") or {}
        basis = named.get(kind) if isinstance(named, dict) else None
        if not isinstance(basis, str) or not basis.strip():
            message = (
                f"{PAUSE_KINDS[kind]} ({kind}) is not a special procedure of 行政许可法 Art. 45, so its time counts "
                f"within the limit; only if the law of '{matter.key}' excludes it may the clock stop, with that law "
                f'named in its catalogue: special_procedures = {{ {kind} = "《…》第…条" }}'
            )
            raise ValidationError("pause", [FieldError("kind", message)])
        return basis.strip()

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
            extension = ClockExtensionRow(
                case_id=row.id,
                working_days=working_days,
                approver=approver,
                reason=reason,
                granted_at=now,
                granted_by=actor,
            )
            session.add(extension)
            session.flush()
            self._event(
                session,
                row,
                EventKind.CLOCK_EXTENDED,
                actor,
                f"延期 {working_days} 个工作日(批准: {approver})",
                {"working_days": working_days, "approver": approver, "reason": reason},
            )
            view = self._recompute(session, row, now)
            if self.on_extended is not None:  # the 延期通知书, in the same transaction
                self.on_extended(session, row, working_days, approver, reason, actor, extension.id)
            return view

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

    def deem_accepted(self) -> list[str]:
        """Licence applications that waited at intake past the 5 working days of 行政许可法 Art. 32 with no
        acceptance, refusal or 一次性告知: by law they count as accepted on the day received. Record it (a
        history entry) and start the case's clock at receipt. Run by the timer loop; returns the case numbers."""
        now = self.clock.now()
        calendar = self._calendar()
        found: list[str] = []
        with self.db.writing() as session:
            waiting = session.execute(
                select(CaseRow.id, TaskRow.created_at)
                .join(TaskRow, TaskRow.case_id == CaseRow.id)
                .where(CaseRow.status == CaseStatus.RECEIVED, CaseRow.accepted_at.is_(None))
                .where(TaskRow.state == TaskState.READY, TaskRow.due_at.is_not(None), TaskRow.due_at < now)
            ).all()
            received: dict[int, datetime] = {}
            for case_id, opened in waiting:
                received[case_id] = min(opened, received.get(case_id, opened))
            for case_id, at in received.items():
                if calendar.due(at, INTAKE_LIMIT.value, INTAKE_LIMIT.unit) >= now:
                    continue  # a shorter stepLimit ran out, not the law's 5 days
                row = self.runtime.lock_case(session, case_id)
                matter = self.runtime.bundle(session, row.definition_id).matter
                if (
                    row.accepted_at is not None
                    or row.status != CaseStatus.RECEIVED
                    or matter.matter_type != LICENCE_TYPE
                ):
                    continue
                row.accepted_at, row.status = at, CaseStatus.ACCEPTED
                due_by = calendar.due(at, INTAKE_LIMIT.value, INTAKE_LIMIT.unit)
                self._event(
                    session,
                    row,
                    EventKind.DEEMED_ACCEPTED,
                    "",
                    f"视为受理: 收到申请后5个工作日内未受理、不予受理或一次性告知补正({ART32}),"
                    f"自收到申请之日({_local(at)})起即为受理",
                    {"received_at": at.isoformat(), "notice_due": due_by.isoformat(), "basis": ART32},
                )
                title = f"{CASE_STATUS_LABELS[CaseStatus.RECEIVED]} → {CASE_STATUS_LABELS[CaseStatus.ACCEPTED]}"
                data = {"from": CaseStatus.RECEIVED.value, "to": CaseStatus.ACCEPTED.value}
                self._event(session, row, EventKind.STATUS_CHANGED, "", title, data)
                self._recompute(session, row, now)
                if self.on_deemed_accepted is not None:
                    self.on_deemed_accepted(session, row, at)
                found.append(row.case_no)
        return found

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

    def _view(self, session: Session, row: CaseRow | CaseState, now: datetime) -> ClockView:
        """The clock of a case row read in the caller's session (the case page reads it with the rest)."""
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

    def _recompute(self, session: Session, row: CaseRow | CaseState, now: datetime) -> ClockView:
        session.flush()
        view = self._view(session, row, now)
        if view.committed is not None and view.legal is not None:
            if row.committed_due_at != view.committed.due:
                row.committed_due_at = view.committed.due
                self.runtime.resort_tasks(session, row)
            row.legal_due_at = view.legal.due
            self._move_step_dues(session, row, now)
        return view

    def _move_step_dues(self, session: Session, row: CaseRow | CaseState, now: datetime) -> None:
        """Each open step's own due date moves with the special procedures as the case's do."""
        pauses = [
            (p.started_at, p.ended_at)
            for p in session.scalars(select(ClockPauseRow).where(ClockPauseRow.case_id == row.id))
        ]
        if not pauses:
            return
        bundle = self.runtime.bundle(session, row.definition_id)
        calendar = self._calendar()
        for task in session.scalars(select(TaskRow).where(TaskRow.case_id == row.id, TaskRow.state == TaskState.READY)):
            meta = bundle.node(task.bpmn_id)
            if meta is None or not meta.step_limit:
                continue
            value, unit = parse_limit(meta.step_limit)
            task.due_at = step_due_after_pauses(
                calendar, start=task.created_at, value=value, unit=unit, pauses=pauses, now=now
            )

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
