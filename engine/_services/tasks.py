"""Human work: list a section's tasks, claim, unclaim and complete them with form data.

Completion locks the case (one writer per case), re-reads the task under that lock, and fails with a
``ConflictError`` if someone else completed it meanwhile: of two clerks pressing "done" at the same
moment, exactly one wins.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .._config.forms import validate_data
from .._errors import ConflictError, FieldError, NotFoundError, PermissionDeniedError, ValidationError
from .._store.db import Database
from .._store.models import CaseRow, EventRow, SectionRow, TaskRow, UserRow, UserSectionRow
from .._time.clock import Clock
from .cases import TaskView, task_view
from .runtime import Runtime, task_uuid
from .users import UserAccount

if TYPE_CHECKING:
    from .pages import PageService, TaskPage

__all__ = ["TaskService"]


class TaskService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, *, pages: PageService | None = None) -> None:
        self.pages = pages
        self.db = db
        self.clock = clock
        self.runtime = runtime

    # -- queries ------------------------------------------------------------------------------------
    def for_section(self, section: str, *, limit: int = 200, offset: int = 0) -> list[TaskView]:
        """READY tasks of a section, most urgent first (case due date, then arrival)."""
        with self.db.reading() as session:
            rows = session.execute(
                select(TaskRow, CaseRow)
                .join(CaseRow, CaseRow.id == TaskRow.case_id)
                .where(TaskRow.section_code == section, TaskRow.state == "ready")
                .order_by(TaskRow.sort_due, TaskRow.created_at, TaskRow.id)
                .limit(limit)
                .offset(offset)
            ).all()
            if not rows and self._section_unknown(session, section):
                raise NotFoundError(f"unknown section '{section}'")
            return [task_view(t, c) for t, c in rows]

    def get(self, task_id: str) -> TaskView:
        with self.db.reading() as session:
            row = self._task_row(session, task_id)
            case = session.get(CaseRow, row.case_id)
            assert case is not None
            return task_view(row, case)

    def page(self, user: UserAccount, task_id: str) -> TaskPage:
        """Everything the task page shows, read in one transaction (see ``PageService``)."""
        if self.pages is None:
            raise RuntimeError("TaskService.page needs the engine's PageService")
        return self.pages.task(user, task_id)

    def form_schema(self, task_id: str) -> dict[str, Any] | None:
        with self.db.reading() as session:
            row = self._task_row(session, task_id)
            case = session.get(CaseRow, row.case_id)
            assert case is not None
            bundle = self.runtime.bundle(session, case.definition_id)
            return bundle.forms.get(row.form) if row.form else None

    # -- claiming -----------------------------------------------------------------------------------
    def claim(self, task_id: str, *, user: str) -> TaskView:
        return self._set_claim(task_id, user=user, claim=True)

    def unclaim(self, task_id: str, *, user: str) -> TaskView:
        return self._set_claim(task_id, user=user, claim=False)

    def _set_claim(self, task_id: str, *, user: str, claim: bool) -> TaskView:
        with self.db.writing() as session:
            row = self._task_row(session, task_id)
            self._check_member(session, row, user)
            if row.state != "ready":
                raise ConflictError(f"task '{row.name}' ({task_id}) is already {row.state}")
            if claim:
                result = session.execute(
                    update(TaskRow)
                    .where(TaskRow.id == row.id, TaskRow.state == "ready")
                    .where((TaskRow.claimed_by.is_(None)) | (TaskRow.claimed_by == user))
                    .values(claimed_by=user)
                )
            else:
                result = session.execute(
                    update(TaskRow)
                    .where(TaskRow.id == row.id, TaskRow.state == "ready", TaskRow.claimed_by == user)
                    .values(claimed_by=None)
                )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                session.refresh(row)
                holder = row.claimed_by or "nobody"
                raise ConflictError(f"task '{row.name}' ({task_id}) is claimed by {holder}")
            session.add(
                EventRow(
                    case_id=row.case_id,
                    task_id=row.id,
                    kind="task_claimed" if claim else "task_unclaimed",
                    actor=user,
                    at=self.clock.now(),
                    title=("认领: " if claim else "退回待认领: ") + row.name,
                    section_code=row.section_code,
                    data={},
                )
            )
            session.refresh(row)
            case = session.get(CaseRow, row.case_id)
            assert case is not None
            return task_view(row, case)

    # -- completing ---------------------------------------------------------------------------------
    def complete(self, task_id: str, *, user: str, data: dict[str, Any] | None = None) -> TaskView:
        """Validate ``data`` against the task's form, complete the task and run the case on."""
        data = dict(data or {})
        with self.runtime.transaction() as session:
            return self.complete_in_session(session, task_id, user, data)

    def complete_in_session(self, session: Session, task_id: str, user: str, data: dict[str, Any]) -> TaskView:
        """``complete`` inside the caller's ``runtime.transaction()``."""
        uid = task_uuid(task_id)
        # One statement finds the task, locks its case (and the task row) and says whether the user works
        # in the task's section; the reason is looked up only when the answer is no.
        member = (
            select(UserSectionRow.section_code)
            .join(UserRow, UserRow.id == UserSectionRow.user_id)
            .where(UserRow.username == user, UserRow.active.is_(True))
            .where(UserSectionRow.section_code == TaskRow.section_code)
            .exists()
        )
        found = session.execute(
            select(TaskRow, CaseRow, member)
            .join(CaseRow, CaseRow.id == TaskRow.case_id)
            .where(TaskRow.id == str(uid))
            # Only the case row is locked, and FOR NO KEY UPDATE: every step of a case takes this one lock
            # first, so two steps never hold task rows the other needs (a timer firing in one step cancels
            # the task the other completes: a deadlock on PostgreSQL when task rows were locked too), and
            # a claim's history row, whose foreign key takes KEY SHARE on the case, is never blocked by it.
            .with_for_update(of=CaseRow, key_share=True)
            .execution_options(populate_existing=True)
        ).first()
        if found is None:
            raise NotFoundError(f"unknown task '{task_id}'")
        row, case, is_member = found
        if not is_member:
            self._check_member(session, row, user)
        if row.state != "ready":
            by = f" by {row.completed_by}" if row.completed_by else ""
            raise ConflictError(f"task '{row.name}' ({task_id}) was already {row.state}{by}")
        if row.claimed_by and row.claimed_by != user:
            raise PermissionDeniedError(f"task '{row.name}' ({task_id}) is claimed by {row.claimed_by}")
        bundle = self.runtime.bundle(session, case.definition_id)
        schema = bundle.forms.get(row.form) if row.form else None
        if schema is not None:
            validate_data(schema, data, context=f"task '{row.name}' form {row.form}")
        elif data:
            raise ValidationError(
                f"task '{row.name}'", [FieldError("(form)", "this task has no form and takes no data")]
            )
        workflow = self.runtime.load(session, case)
        task = workflow.get_task_from_id(uid)
        if task is None or task.state != TaskState.READY:
            self.runtime.forget(case.id)
            session.refresh(row)  # the task row as it is now, not as before the case lock was granted
            if row.state != "ready":
                by = f" by {row.completed_by}" if row.completed_by else ""
                raise ConflictError(f"task '{row.name}' ({task_id}) was already {row.state}{by}")
            raise ConflictError(f"task '{row.name}' ({task_id}) is no longer ready")
        with self.runtime.stepping(user, workflow) as step:
            step.events.append(
                self.runtime.event(
                    "task_completed", step, row.name, task_id=row.id, section=row.section_code, data={"form": data}
                )
            )
            self.runtime.run_user_task(workflow, task, data, step)
            self.runtime.save(session, case, workflow, step)
        # The row was closed with a bulk UPDATE; report it as it now stands without reading it back.
        return replace(task_view(row, case), state="completed", completed_at=step.at, completed_by=user)

    # -- helpers ------------------------------------------------------------------------------------
    def _task_row(self, session: Session, task_id: str) -> TaskRow:
        row = session.get(TaskRow, str(task_uuid(task_id)))
        if row is None:
            raise NotFoundError(f"unknown task '{task_id}'")
        return row

    def _check_member(self, session: Session, row: TaskRow, user: str) -> None:
        sections = set(
            session.scalars(
                select(UserSectionRow.section_code)
                .join(UserRow, UserRow.id == UserSectionRow.user_id)
                .where(UserRow.username == user, UserRow.active.is_(True))
            )
        )
        if row.section_code in sections:
            return
        if not sections and session.scalar(select(UserRow.id).where(UserRow.username == user)) is None:
            raise NotFoundError(f"unknown user '{user}'")
        mine = ", ".join(sorted(sections)) or "none"
        raise PermissionDeniedError(
            f"task '{row.name}' belongs to section '{row.section_code}'; {user} works in: {mine}"
        )

    def _section_unknown(self, session: Session, section: str) -> bool:
        return session.get(SectionRow, section) is None
