"""Cases that end without a decision: the applicant withdraws the application (撤回), or the 补正 deadline
passes and the bureau ends it (终止). Either way every open step is cancelled, the case is finished with its
status, the history says who ended it and why, and the applicant's notice is issued, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._documents.kinds import DocumentKind
from .._errors import ConflictError, FieldError, NotFoundError, ValidationError
from .._states import CASE_STATUS_LABELS, FINISHED_STATUSES, CaseStatus, EventKind, TaskState
from .._store.db import Database
from .._store.models import CaseRow, TaskRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .history import NewEvent
from .runtime import Runtime

__all__ = ["CaseEndService"]

# (session, case, matter, step, kind, facts): DocumentService.end_notice
NoticeIssuer = Callable[[Session, Any, Any, Any, DocumentKind, dict[str, Any]], None]
WITHDRAWAL_WAYS = {"hall": "在网上办事大厅", "window": "以书面申请在窗口"}


class CaseEndService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, issue_notice: NoticeIssuer | None = None) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.issue_notice = issue_notice

    def withdraw(self, case_no: str, *, actor: str, reason: str = "", way: str = "window") -> str:
        """撤回: the applicant withdraws an application not yet decided (``way``: ``hall`` by the applicant's
        own account, ``window`` by a clerk on the applicant's written request, whose reason is required)."""
        if way not in WITHDRAWAL_WAYS:
            raise ValidationError("withdrawal", [FieldError("way", f"'{way}' is not one of hall, window")])
        if way == "window" and not reason.strip():
            raise ValidationError("withdrawal", [FieldError("reason", "is required (必填): the applicant's request")])
        facts = {"how": WITHDRAWAL_WAYS[way], "reason": reason.strip()}
        title = "申请人撤回申请" + (f": {reason.strip()}" if reason.strip() else "")
        return self._end(
            case_no, "withdrawn", EventKind.CASE_WITHDRAWN, title, DocumentKind.WITHDRAWAL_NOTICE, facts, actor
        )

    def terminate(self, case_no: str, *, actor: str) -> str:
        """终止: end a case whose applicant let the 补正 deadline pass (refused while the deadline runs)."""
        with self.db.reading() as session:
            lapsed = self._lapsed_supplement(session, _case(session, case_no))
        if lapsed is None:
            raise ConflictError(
                f"case {case_no}: no 补正 deadline has passed, so it cannot be ended (终止)",
                case_no=case_no,
                state="supplement deadline not passed",
            )
        return self._terminate(case_no, lapsed, actor)

    def end_lapsed_supplements(self) -> list[str]:
        """Every case whose 补正 deadline has passed, ended (the timer runner's round); their numbers."""
        now = self.clock.now()
        with self.db.reading() as session:
            found = session.execute(
                select(CaseRow.case_no, TaskRow.due_at)
                .join(TaskRow, TaskRow.case_id == CaseRow.id)
                .where(CaseRow.status == CaseStatus.SUPPLEMENT, TaskRow.state == TaskState.READY)
                .where(TaskRow.due_at.is_not(None), TaskRow.due_at < now)
            ).all()
            lapsed = []
            for case_no, _due in found:
                due = self._lapsed_supplement(session, _case(session, case_no))
                if due is not None:
                    lapsed.append((case_no, due))
        ended = []
        for case_no, due in lapsed:
            try:
                self._terminate(case_no, due, "")
            except ConflictError:
                continue  # handed in or ended meanwhile
            ended.append(case_no)
        return ended

    # -- internals ----------------------------------------------------------------------------------
    def _terminate(self, case_no: str, due: datetime, actor: str) -> str:
        on = due.astimezone(CHINA_TZ)
        reason = f"经一次性告知补正,申请人未在补正期限({on.year}年{on.month:02d}月{on.day:02d}日)内补正全部材料"
        facts = {"reason": reason, "basis": ""}
        title = f"终止办理: {reason}"
        return self._end(
            case_no,
            "supplement_lapsed",
            EventKind.CASE_TERMINATED,
            title,
            DocumentKind.TERMINATION_NOTICE,
            facts,
            actor,
        )

    def _lapsed_supplement(self, session: Session, row: CaseRow) -> datetime | None:
        """The passed deadline of the case's open 补正 step, if there is one."""
        if row.status != CaseStatus.SUPPLEMENT:
            return None
        bundle = self.runtime.bundle(session, row.definition_id)
        now = self.clock.now()
        for task in session.scalars(select(TaskRow).where(TaskRow.case_id == row.id, TaskRow.state == TaskState.READY)):
            meta = bundle.node(task.bpmn_id)
            if meta is not None and meta.milestone == "supplement_requested" and task.due_at and task.due_at < now:
                return task.due_at
        return None

    def _end(
        self,
        case_no: str,
        outcome: str,
        kind: EventKind,
        title: str,
        notice: DocumentKind,
        facts: dict[str, Any],
        actor: str,
    ) -> str:
        with self.runtime.transaction() as session:
            found = session.scalar(select(CaseRow.id).where(CaseRow.case_no == case_no))
            if found is None:
                raise NotFoundError.unknown("case", case_no)
            case = self.runtime.lock_state(session, found)
            if case.status in FINISHED_STATUSES:
                label = CASE_STATUS_LABELS.get(case.status, case.status)
                raise ConflictError(f"case {case_no} is finished ({label})", case_no=case_no, state=case.status)
            if outcome == "supplement_lapsed" and case.status != CaseStatus.SUPPLEMENT:
                raise ConflictError(f"case {case_no} no longer waits for its 补正", case_no=case_no, state=case.status)
            bundle = self.runtime.bundle(session, case.definition_id)
            workflow = self.runtime.load(session, case)
            with self.runtime.stepping(actor, workflow) as step:
                step.events.append(NewEvent(kind, title, data={k: v for k, v in facts.items() if v}))
                workflow.cancel()
                case.outcome = outcome
                if self.issue_notice is not None:
                    on = step.at.astimezone(CHINA_TZ)
                    facts = {**facts, "withdrawn_on": f"{on.year}年{on.month:02d}月{on.day:02d}日"}
                    self.issue_notice(session, case, bundle.matter, step, notice, facts)
                self.runtime.save(session, case, workflow, step)
            return str(case.status)


def _case(session: Session, case_no: str) -> CaseRow:
    row = session.scalars(select(CaseRow).where(CaseRow.case_no == case_no)).first()
    if row is None:
        raise NotFoundError.unknown("case", case_no)
    return row
