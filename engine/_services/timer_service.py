"""``onewindow timers run``: fire due BPMN timers, each exactly once, however many runners share a database.

A runner takes one due case at a time in its own transaction: on PostgreSQL with ``FOR UPDATE SKIP
LOCKED`` (runners never wait for each other and never take the same case), on SQLite under the single
write lock. Firing and recording happen in the same transaction that moves ``next_timer_at`` on, so a
timer that fired can never be picked up again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from .._errors import WorkflowError
from .._states import EventKind
from .._store.db import Database
from .._store.models import CaseRow, IncidentRow
from .._time.clock import Clock
from .history import NewEvent
from .incidents import IncidentService
from .runtime import Runtime

__all__ = ["FiredTimer", "TimerService"]


@dataclass(frozen=True)
class FiredTimer:
    case_no: str
    timer_id: str
    name: str
    at: datetime


class TimerService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, incidents: IncidentService | None = None) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.incidents = incidents

    def run_due(self, *, limit: int = 500, actor: str = "timer") -> list[FiredTimer]:
        """Fire every timer due by now (at most ``limit`` cases); returns what fired."""
        now = self.clock.now()
        fired: list[FiredTimer] = []
        seen: set[int] = set()
        # A case whose timers failed waits for an administrator's retry (its incident).
        failed = select(IncidentRow.case_id).where(IncidentRow.status == "open", IncidentRow.kind == "timer")
        while len(seen) < limit:
            case_id: int | None = None
            try:
                with self.runtime.transaction() as session:
                    query = (
                        select(CaseRow.id)
                        .where(CaseRow.next_timer_at <= now, CaseRow.id.not_in(seen), CaseRow.id.not_in(failed))
                        .order_by(CaseRow.next_timer_at, CaseRow.id)
                        .limit(1)
                    )
                    if not self.db.is_sqlite:
                        query = query.with_for_update(skip_locked=True, key_share=True)
                    case_id = session.scalar(query)
                    if case_id is None:
                        break
                    seen.add(case_id)
                    fired.extend(self.fire_case(session, case_id, now, actor))
            except WorkflowError as err:  # the BPMN failed: rolled back; record it and go on with the others
                if self.incidents is None or case_id is None:
                    raise
                self.incidents.record_timer_failure(case_id, actor, err)
        return fired

    def fire_case(self, session: Session, case_id: int, now: datetime, actor: str) -> list[FiredTimer]:
        row = self.runtime.lock_state(session, case_id)
        if row.next_timer_at is None or row.next_timer_at > now:
            return []  # another runner got here first
        workflow = self.runtime.load(session, row)
        waiting = {
            t.id: t
            for t in workflow.get_tasks(state=TaskState.WAITING)
            if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)
        }
        out: list[FiredTimer] = []
        with self.runtime.stepping(actor, workflow) as step:
            workflow.refresh_timers()
            self.runtime.run_engine(workflow, step)
            for task_id, task in waiting.items():
                if task.state == TaskState.COMPLETED:
                    name = task.task_spec.bpmn_name or task.task_spec.bpmn_id or "timer"
                    step.events.append(
                        NewEvent(
                            EventKind.TIMER_FIRED,
                            f"定时: {name}",
                            task_id=str(task_id),
                            data={"timer": task.task_spec.bpmn_id, "due": task._get_internal_data("event_value")},
                        )
                    )
                    out.append(FiredTimer(row.case_no, task.task_spec.bpmn_id or "", name, now))
            self.runtime.save(session, row, workflow, step)
        return out
