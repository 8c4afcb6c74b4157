"""Incidents (Camunda's word): a step that failed in the BPMN itself — a script or condition error, a
script over its time or memory budget, scripts switched off — is rolled back, and the case gets an
incident, written in a transaction of its own once the step's has been rolled back, with an event in the
case's history. An administrator lists them and, after fixing the cause (redeploying the BPMN, raising a
budget), retries: the same step runs again — the same task completed with the same data by the same
clerk, or the case's due timers fired — on the case's version or, with ``latest``, on the matter's newest.

A step that fails again keeps its one open incident (``attempts`` counts). A case with an open timer
incident is left alone by the timer runners until it is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._errors import ConflictError, NotFoundError, WorkflowError
from .._states import EventKind, TaskState
from .._store.db import Database
from .._store.models import CaseRow, DefinitionRow, EventRow, IncidentRow, TaskRow
from .._time.clock import Clock
from .history import HistoryService, NewEvent
from .runtime import Runtime
from .views import IncidentView

__all__ = ["IncidentService", "IncidentView", "incidents_from_events", "incidents_of"]

OPEN = "open"
RESOLVED = "resolved"


Rerun = Callable[[Session, IncidentRow], Any]
"""Runs a failed step again inside the retry's transaction."""


class IncidentService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, history: HistoryService) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.history = history
        # How each kind of step runs again inside a transaction (the engine sets them: tasks, timers).
        self.rerun: dict[str, Rerun] = {}

    # -- recording -----------------------------------------------------------------------------------
    def record_task_failure(self, task_id: str, user: str, data: dict[str, Any], error: WorkflowError) -> WorkflowError:
        """After a completion of ``task_id`` failed and was rolled back: open (or update) its incident, and
        return the error to raise, naming the incident."""
        with self.db.writing() as session:
            task = session.get(TaskRow, task_id)
            if task is None:
                return error
            incident = self._record(session, task.case_id, "task", task_id, user, data, str(error), task.name)
        return _naming(error, incident)

    def record_timer_failure(self, case_id: int, actor: str, error: WorkflowError) -> WorkflowError:
        with self.db.writing() as session:
            incident = self._record(session, case_id, "timer", None, actor, {}, str(error), "定时")
        return _naming(error, incident)

    def _record(
        self,
        session: Session,
        case_id: int,
        kind: str,
        task_id: str | None,
        actor: str,
        data: dict[str, Any],
        message: str,
        title: str,
    ) -> int:
        now = self.clock.now()
        row = session.scalars(
            select(IncidentRow).where(
                IncidentRow.case_id == case_id,
                IncidentRow.kind == kind,
                IncidentRow.task_id.is_(None) if task_id is None else IncidentRow.task_id == task_id,
                IncidentRow.status == OPEN,
            )
        ).first()
        if row is None:
            row = IncidentRow(
                case_id=case_id, kind=kind, task_id=task_id, actor=actor, data=data, message=message[:1000],
                status=OPEN, attempts=1, created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(row)
        else:
            row.attempts += 1
            row.actor, row.data, row.message, row.updated_at = actor, data, message[:1000], now
        session.flush()
        event = NewEvent(
            EventKind.INCIDENT,
            f"流程异常 #{row.id}: {title}"[:300],
            task_id=task_id,
            data={"incident": row.id, "message": message[:1000], "attempts": row.attempts, "step": title},
        )
        self.history.record(session, case_id, [event], actor=actor, at=now)
        return row.id

    # -- reading -------------------------------------------------------------------------------------
    def list(self, *, status: str | None = OPEN, case_no: str | None = None) -> list[IncidentView]:
        with self.db.reading() as session:
            query = select(IncidentRow, CaseRow.case_no, TaskRow.name).join(CaseRow, CaseRow.id == IncidentRow.case_id)
            query = query.outerjoin(TaskRow, TaskRow.id == IncidentRow.task_id)
            if status is not None:
                query = query.where(IncidentRow.status == status)
            if case_no is not None:
                query = query.where(CaseRow.case_no == case_no)
            return [_view(row, no, name) for row, no, name in session.execute(query.order_by(IncidentRow.id)).all()]

    def get(self, incident_id: int) -> IncidentView:
        with self.db.reading() as session:
            found = session.execute(
                select(IncidentRow, CaseRow.case_no, TaskRow.name)
                .join(CaseRow, CaseRow.id == IncidentRow.case_id)
                .outerjoin(TaskRow, TaskRow.id == IncidentRow.task_id)
                .where(IncidentRow.id == incident_id)
            ).first()
            if found is None:
                raise NotFoundError(f"unknown incident {incident_id}")
            return _view(*found)

    # -- retrying ------------------------------------------------------------------------------------
    def retry(self, incident_id: int, *, actor: str, latest: bool = False) -> IncidentView:
        """Run the failed step again; on success the incident is resolved in the same transaction."""
        try:
            with self.runtime.transaction() as session:
                row = session.get(IncidentRow, incident_id, with_for_update=True)
                if row is None:
                    raise NotFoundError(f"unknown incident {incident_id}")
                if row.status != OPEN:
                    raise ConflictError(f"incident {incident_id} is already {row.status} (by {row.resolved_by})")
                case = self.runtime.lock_case(session, row.case_id)
                if latest:
                    self._move_to_latest(session, case)
                self._rerun(session, row)
                now = self.clock.now()
                row.status, row.resolved_at, row.resolved_by, row.updated_at = RESOLVED, now, actor, now
                resolved = NewEvent(
                    EventKind.INCIDENT_RESOLVED,
                    f"流程异常 #{row.id} 已重试解决",
                    task_id=row.task_id,
                    data={"incident": row.id},
                )
                self.history.record(session, row.case_id, [resolved], actor=actor, at=now)
        except WorkflowError as err:
            with self.db.reading() as session:
                failed = session.get(IncidentRow, incident_id)
                assert failed is not None
                kind, task_id, case_id = failed.kind, failed.task_id, failed.case_id
                who, data = failed.actor, failed.data
            if kind == "task" and task_id:
                raise self.record_task_failure(task_id, who, dict(data or {}), err) from None
            raise self.record_timer_failure(case_id, who, err) from None
        return self.get(incident_id)

    def _rerun(self, session: Session, row: IncidentRow) -> None:
        if row.kind == "task" and row.task_id:
            task = session.get(TaskRow, row.task_id)
            if task is None or task.state != TaskState.READY:
                return  # completed or withdrawn meanwhile: nothing left to run
        rerun = self.rerun.get(row.kind)
        if rerun is None:
            raise ConflictError(f"incident {row.id}: no way to retry a step of kind '{row.kind}'")
        rerun(session, row)

    def _move_to_latest(self, session: Session, case: CaseRow) -> None:
        """Put the case on its matter's newest deployed version (the state is matched by BPMN ids)."""
        latest = session.scalars(
            select(DefinitionRow)
            .where(DefinitionRow.matter_key == case.matter_key)
            .order_by(DefinitionRow.version.desc())
            .limit(1)
        ).one()
        if latest.id == case.definition_id:
            return
        self.runtime.forget(case.id)
        case.definition_id = latest.id
        session.flush()  # the step re-run next reads the case row with Core: it must see the new version
        try:
            self.runtime.load(session, case)
        except Exception as err:
            raise ConflictError(f"case {case.case_no} cannot move to version {latest.version}: {err}") from None


def _naming(error: WorkflowError, incident: int) -> WorkflowError:
    return WorkflowError(
        f"{error} (incident #{incident}: an administrator can retry it after the fix)",
        element=error.element,
        incident=incident,
    )


def incidents_of(session: Session, case: CaseRow) -> list[IncidentView]:
    """Every incident of ``case``, oldest first (for the case's page)."""
    rows = session.execute(
        select(IncidentRow, TaskRow.name)
        .outerjoin(TaskRow, TaskRow.id == IncidentRow.task_id)
        .where(IncidentRow.case_id == case.id)
        .order_by(IncidentRow.id)
    ).all()
    return [_view(row, case.case_no, name) for row, name in rows]


def incidents_from_events(events: Sequence[EventRow], case_no: str) -> list[IncidentView]:
    """A case's incidents as its history tells them (for a page that has read the history already)."""
    found: dict[int, IncidentView] = {}
    for e in events:
        number = (e.data or {}).get("incident")
        if not isinstance(number, int):
            continue
        known = found.get(number)
        if e.kind == EventKind.INCIDENT:
            data = e.data or {}
            found[number] = IncidentView(
                id=number,
                case_no=case_no,
                kind="task" if e.task_id else "timer",
                task_id=e.task_id,
                task_name=str(data.get("step", "")),
                actor=e.actor,
                message=str(data.get("message", "")),
                status=OPEN,
                attempts=int(data.get("attempts", 1)),
                created_at=known.created_at if known else e.at,
                updated_at=e.at,
                resolved_at=None,
                resolved_by=None,
                data={},
            )
        elif e.kind == EventKind.INCIDENT_RESOLVED and known is not None:
            found[number] = replace(known, status=RESOLVED, resolved_at=e.at, resolved_by=e.actor, updated_at=e.at)
    return list(found.values())


def _view(row: IncidentRow, case_no: str, task_name: str | None) -> IncidentView:
    return IncidentView(
        id=row.id,
        case_no=case_no,
        kind=row.kind,
        task_id=row.task_id,
        task_name=task_name or ("定时" if row.kind == "timer" else ""),
        actor=row.actor,
        message=row.message,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        data=dict(row.data or {}),
    )
