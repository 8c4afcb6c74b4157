"""Human work: the worklist of a user's or a section's tasks; claim, unclaim, reassign (a chief's
``set_assignee``) and complete them with form data.

The worklist is one indexed query on ``tasks(section_code, state)`` ordered by the case's committed due
date, plus one count; no per-row loading.

Completion locks the case (one writer per case), re-reads the task under that lock, and fails with a
``ConflictError`` if someone else completed it meanwhile: of two clerks pressing "done" at the same
moment, exactly one wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import (
    ColumnElement,
    Row,
    Subquery,
    Table,
    bindparam,
    exists,
    func,
    nulls_last,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from .._bpmn.definitions import ProcessBundle, TaskMeta
from .._config.bureau import DEPARTMENT_QUEUE
from .._config.forms import validate_data
from .._errors import (
    ConflictError,
    FieldError,
    NotFoundError,
    OnewindowError,
    PermissionDeniedError,
    ValidationError,
    WorkflowError,
)
from .._states import EventKind, TaskState
from .._store.db import Database
from .._store.models import CaseRow, SectionRow, TaskRow, UserRow, UserSectionRow
from .._time.clock import Clock
from .absences import refuse_absent
from .case_state import CASE_COLUMNS, CASES, CaseState
from .four_eyes import check_four_eyes
from .history import NewEvent
from .incidents import IncidentService
from .point_access import other_points_work, points_filter
from .runtime import Runtime, task_uuid
from .send_back import plan_send_back, reset_to
from .users import UserAccount
from .views import Page, TaskView, WorklistFilter, task_view

if TYPE_CHECKING:
    from .pages import PageService, TaskPage


# (session, case, bundle, the task's metadata, the task's data so far, the submitted data)
CompletionCheck = Callable[[Session, CaseState, ProcessBundle, TaskMeta, dict[str, Any], dict[str, Any]], None]
__all__ = ["COUNT_CAP", "ClaimOutcome", "CompletionCheck", "TaskService", "like_pattern"]

# A clerk with thousands of open tasks filters or searches rather than pages; counting stops here so the
# worklist costs the same with 30 or 30,000 open tasks ("1000+").
COUNT_CAP = 1000
_ORDER = (TaskRow.sort_due, TaskRow.created_at, TaskRow.id)

_TASKS = cast(Table, TaskRow.__table__)
# What each sortable column of the worklist sorts on (views.WORKLIST_SORTS); "due" is the case's committed due
# date, NULL before acceptance (sort_due holds a far-future stand-in for it, which would come first descending).
_SORT_COLUMNS: dict[str, Any] = {
    "due": CaseRow.committed_due_at,
    "received": TaskRow.created_at,
    # the time left, as the worklist's badge shows it (templating.urgency): the tighter of the two due dates
    "left": sql_case(
        (TaskRow.due_at.is_(None), CaseRow.committed_due_at),
        (CaseRow.committed_due_at.is_(None), TaskRow.due_at),
        (TaskRow.due_at < CaseRow.committed_due_at, TaskRow.due_at),
        else_=CaseRow.committed_due_at,
    ),
    "case_no": CaseRow.case_no,
    "matter": CaseRow.matter_key,
    "applicant": CaseRow.applicant_name,
}
_TASK_COLUMNS = tuple(
    _TASKS.c[name]
    for name in (
        "id",
        "name",
        "bpmn_id",
        "lane",
        "section_code",
        "form",
        "state",
        "claimed_by",
        "created_at",
        "due_at",
        "completed_by",
    )
)
_MEMBER = (
    select(UserSectionRow.section_code)
    .join(UserRow, UserRow.id == UserSectionRow.user_id)
    .where(UserRow.username == bindparam("user"), UserRow.active.is_(True))
    .where(UserSectionRow.section_code == _TASKS.c.section_code)
    .exists()
)
# Built once (a statement object keeps its cache key): the task, its case locked, and the membership check.
_FIND_AND_LOCK = (
    select(*_TASK_COLUMNS, *CASE_COLUMNS, _MEMBER.label("is_member"))
    .join(CASES, CASES.c.id == _TASKS.c.case_id)
    .where(_TASKS.c.id == bindparam("tid"))
    # Only the case row is locked, and FOR NO KEY UPDATE: every step of a case takes this one lock first, so
    # two steps never hold task rows the other needs (a timer firing in one step cancels the task the other
    # completes: a deadlock on PostgreSQL when task rows were locked too), and a claim's history row, whose
    # foreign key takes KEY SHARE on the case, is never blocked by it.
    .with_for_update(of=CASES, key_share=True)
)
# What a task view shows, task and case columns in one row (Core: no ORM objects for a list).
_VIEW_ROWS = select(
    *_TASK_COLUMNS,
    _TASKS.c.completed_at,
    CASES.c.case_no,
    CASES.c.matter_key,
    CASES.c.applicant_name,
    CASES.c.committed_due_at,
    CASES.c.paused_at,
    CASES.c.channel,
    CASES.c.point,
    CASES.c.definition_id,
).join(CASES, CASES.c.id == _TASKS.c.case_id)
_SECTION_READY = (
    _VIEW_ROWS.where(_TASKS.c.section_code == bindparam("section"), _TASKS.c.state == TaskState.READY)
    .order_by(_TASKS.c.sort_due, _TASKS.c.created_at, _TASKS.c.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_VIEW_ONE = _VIEW_ROWS.where(_TASKS.c.id == bindparam("tid"))  # built once: its cache key too
_TASK_NOW = select(_TASKS.c.state, _TASKS.c.completed_by).where(_TASKS.c.id == bindparam("tid"))


@dataclass(frozen=True)
class ClaimOutcome:
    """One task of ``claim_many``: claimed (``error`` None), or why not; ``task`` None when it is unknown to the
    user (another section's, or no such task)."""

    task_id: str
    task: TaskView | None
    error: OnewindowError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def like_pattern(text: str) -> str:
    """``%text%`` for ``ILIKE … ESCAPE '\\'``, with the user's own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _count(session: Session, query: Any, cap: int) -> int:
    """Rows of ``query``, counted up to ``cap + 1``."""
    return session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery())) or 0


class TaskService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        runtime: Runtime,
        *,
        pages: PageService | None = None,
        incidents: IncidentService | None = None,
        window_sections: frozenset[str] = frozenset(),
    ) -> None:
        # the sections whose tasks are the receiving point's window work (bureau.window_sections())
        self.window_sections = window_sections
        self.pages = pages
        self.incidents = incidents
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.count_cap = COUNT_CAP
        # Checks beyond the form's schema, made before a task completes (the patterns' rules: an inspection
        # team, an inspection record, a 容缺 waiver); each raises ValidationError, and nothing is written.
        self.checks: list[CompletionCheck] = []

    # -- queries ------------------------------------------------------------------------------------
    def for_section(self, section: str, *, limit: int = 200, offset: int = 0) -> list[TaskView]:
        """READY tasks of a section, most urgent first (case due date, then arrival)."""
        with self.db.glance() as session:  # one statement: no BEGIN/COMMIT around it
            # One statement: the section's READY tasks in index order, each with its case's columns.
            found = session.connection().execute(_SECTION_READY, {"section": section, "limit": limit, "offset": offset})
            rows = self._views(session, found)
            if not rows and self._section_unknown(session, section):
                raise NotFoundError.unknown("section", section)
            return rows

    def worklist(
        self, user: UserAccount, filters: WorklistFilter | None = None, *, page: int = 1, per_page: int = 20
    ) -> Page[TaskView]:
        """READY tasks in the lanes of the user's sections, most urgent first, one page of them."""
        filters = filters or WorklistFilter()
        page, per_page = max(1, page), min(max(1, per_page), 200)
        sections = [s for s in user.work_queues if filters.section in (None, "", s)]
        task_where: list[ColumnElement[bool]] = []
        if filters.mine:
            task_where.append(TaskRow.claimed_by == user.username)
        if filters.unclaimed:
            task_where.append(TaskRow.claimed_by.is_(None))
        case_where: list[ColumnElement[bool]] = []
        if filters.matter:
            case_where.append(CaseRow.matter_key == filters.matter)
        if filters.search.strip():
            pattern = like_pattern(filters.search.strip())
            case_where.append(
                or_(CaseRow.case_no.ilike(pattern, escape="\\"), CaseRow.applicant_name.ilike(pattern, escape="\\"))
            )
        if not sections:
            return Page([], 0, page, per_page)
        if (at_point := points_filter(user, sections, self.window_sections)) is not None:
            case_where.append(at_point)
        with self.db.reading() as session:
            if case_where:
                counted = _count(session, _ready(sections, task_where, case_where), self.count_cap)
            else:
                counted = sum(_count(session, _ready([s], task_where, []), self.count_cap) for s in sections)
            if filters.sort == "due" and not filters.descending:  # the default: the index's own order
                ids = self._ready_ids(
                    session, sections, task_where, case_where, offset=(page - 1) * per_page, limit=per_page
                )
            else:
                ids = self._sorted_ids(
                    session, sections, task_where, case_where, filters, (page - 1) * per_page, per_page
                )
            rows = self._load(session, ids)
        return Page(rows, min(counted, self.count_cap), page, per_page, more=counted > self.count_cap)

    def _ready_ids(
        self,
        session: Session,
        sections: Sequence[str],
        task_where: Sequence[ColumnElement[bool]],
        case_where: Sequence[ColumnElement[bool]],
        *,
        offset: int,
        limit: int,
    ) -> list[str]:
        """Ids of one page of READY tasks of ``sections``, most urgent first.

        Without a case-level filter the statement reads only the task index: per section the first
        ``offset + limit`` rows in index order, merged (UNION ALL) and cut to the page. An ``IN`` over
        several sections would lose the index order and sort every open task instead.
        """
        if case_where or len(sections) == 1:  # filters on the case: join first (the filter narrows the rows)
            query = _ready(sections, task_where, case_where).order_by(*_ORDER).limit(limit).offset(offset)
            return list(session.scalars(query))
        heads: list[Subquery] = [
            select(TaskRow.id, *_ORDER[:2])
            .where(TaskRow.section_code == s, TaskRow.state == TaskState.READY, *task_where)
            .order_by(*_ORDER)
            .limit(offset + limit)
            .subquery()
            for s in sections
        ]
        merged = union_all(*(select(h.c.id, h.c.sort_due, h.c.created_at) for h in heads)).subquery()
        query = select(merged.c.id).order_by(merged.c.sort_due, merged.c.created_at, merged.c.id)
        return list(session.scalars(query.limit(limit).offset(offset)))

    def _sorted_ids(
        self,
        session: Session,
        sections: Sequence[str],
        task_where: Sequence[ColumnElement[bool]],
        case_where: Sequence[ColumnElement[bool]],
        filters: WorklistFilter,
        offset: int,
        limit: int,
    ) -> list[str]:
        """Ids of one page of READY tasks sorted on a column the user chose (a column header of the worklist);
        rows without a value (no due date yet) last either way, ties in the default order."""
        column = filters.matter_rank() if filters.sort == "matter" else _SORT_COLUMNS[filters.sort]
        order = nulls_last(column.desc() if filters.descending else column.asc())
        where = TaskRow.section_code == sections[0] if len(sections) == 1 else TaskRow.section_code.in_(sections)
        query = (
            select(TaskRow.id)
            .join(CaseRow, CaseRow.id == TaskRow.case_id)
            .where(where, TaskRow.state == TaskState.READY, *task_where, *case_where)
            .order_by(order, *_ORDER)
            .limit(limit)
            .offset(offset)
        )
        return list(session.scalars(query))

    def _load(self, session: Session, ids: list[str]) -> list[TaskView]:
        """The views of ``ids``, in their order: one read, never one per row."""
        if not ids:
            return []
        rows = session.execute(_VIEW_ROWS.where(_TASKS.c.id.in_(ids))).all()
        by_id = {v.id: v for v in self._views(session, rows)}
        return [by_id[i] for i in ids if i in by_id]

    def get(self, task_id: str) -> TaskView:
        with self.db.reading() as session:
            row = self._task_row(session, task_id)
            case = session.get(CaseRow, row.case_id)
            assert case is not None
            return task_view(row, case, self._name_en(session, case.definition_id, row.bpmn_id))

    def page(self, user: UserAccount, task_id: str) -> TaskPage:
        """Everything the task page shows, read in one transaction (see ``PageService``)."""
        if self.pages is None:
            raise RuntimeError("TaskService.page needs the engine's PageService")
        return self.pages.task(user, task_id)

    def glance(self, task_id: str) -> TaskView:
        """``get`` in one statement, the task joined to its case, with no transaction around it: what a view
        reads that only checks and names the task before the step that changes it (claim, unclaim …)."""
        with self.db.glance() as session:
            row = session.connection().execute(_VIEW_ONE, {"tid": str(task_uuid(task_id))}).first()
            if row is None:
                raise NotFoundError.unknown("task", task_id)
            return _view_of(row, self._name_en(session, row.definition_id, row.bpmn_id))

    def get_for(self, user: UserAccount, task_id: str) -> TaskView:
        """A task the user may open: its lane is one of his sections and, at a window, its case was received
        at his point (another section's or point's task is "unknown", in the same words as one that does not
        exist). One statement (``glance``)."""
        return self._open_to(user, self.glance(task_id), task_id)

    def for_completion(self, user: UserAccount, task_id: str) -> tuple[TaskView, dict[str, Any] | None]:
        """The task as ``get_for`` finds it, and its form's schema: what completing it reads before the step,
        in one statement (the form comes from the deployed version's process the engine keeps parsed). The
        task page's full read is for showing the page; a completion needs it only to show the form again."""
        with self.db.glance() as session:
            row = session.connection().execute(_VIEW_ONE, {"tid": str(task_uuid(task_id))}).first()
            if row is None:
                raise NotFoundError.unknown("task", task_id)
            view = _view_of(row, self._name_en(session, row.definition_id, row.bpmn_id))
            forms = self.runtime.bundle(session, row.definition_id).forms
        return self._open_to(user, view, task_id), forms.get(view.form) if view.form else None

    def _open_to(self, user: UserAccount, view: TaskView, task_id: str) -> TaskView:
        if view.section not in user.work_queues and not user.reads_all:
            raise NotFoundError.unknown("task", task_id)
        if other_points_work(user, view.section, view.point, self.window_sections):
            raise NotFoundError.unknown("task", task_id)  # another point's window: as unknown as another section's
        return view

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

    def claim_many(self, user: UserAccount, task_ids: Sequence[str]) -> list[ClaimOutcome]:
        """Claim several tasks at once (the worklist's ticked rows): each one checked and claimed on its own, as
        ``claim`` does, so one refused (another section's, claimed meanwhile, 四眼原则) leaves the others claimed;
        one outcome per distinct id, in the order given."""
        out: list[ClaimOutcome] = []
        for task_id in dict.fromkeys(task_ids):
            try:
                view = self.get_for(user, task_id)
            except OnewindowError as err:
                out.append(ClaimOutcome(task_id, None, err))
                continue
            try:
                out.append(ClaimOutcome(task_id, self.claim(task_id, user=user.username), None))
            except OnewindowError as err:
                out.append(ClaimOutcome(task_id, view, err))
        return out

    def unclaim(self, task_id: str, *, user: str) -> TaskView:
        return self._set_claim(task_id, user=user, claim=False)

    def _set_claim(self, task_id: str, *, user: str, claim: bool) -> TaskView:
        with self.db.writing() as session:
            row = self._task_row(session, task_id)
            # The case first, as every step takes it: a step holding the case and waiting for this task's row
            # must not meet a claim holding the task's row and waiting for the case (the history's chain).
            self.runtime.lock_case(session, row.case_id)
            self._check_member(session, row.section_code, row.name, row.id, user)
            if row.state != TaskState.READY:
                raise ConflictError(
                    f"task '{row.name}' ({task_id}) is already {row.state}", task_id=task_id, state=row.state
                )
            if claim:
                refuse_absent(session, user, self.clock.now(), what=f"claim task {task_id}")
                owner = session.get(CaseRow, row.case_id)
                assert owner is not None
                check_four_eyes(
                    session,
                    case_id=row.case_id,
                    case_no=owner.case_no,
                    matter=self.runtime.bundle(session, owner.definition_id).matter,
                    bpmn_id=row.bpmn_id,
                    step=row.name,
                    user=user,
                    what=f"claim task {task_id}",
                )
            if claim:
                result = session.execute(
                    update(TaskRow)
                    .where(TaskRow.id == row.id, TaskRow.state == TaskState.READY)
                    .where((TaskRow.claimed_by.is_(None)) | (TaskRow.claimed_by == user))
                    .values(claimed_by=user)
                )
            else:
                result = session.execute(
                    update(TaskRow)
                    .where(TaskRow.id == row.id, TaskRow.state == TaskState.READY, TaskRow.claimed_by == user)
                    .values(claimed_by=None)
                )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                session.refresh(row)
                holder = row.claimed_by or "nobody"
                raise ConflictError(
                    f"task '{row.name}' ({task_id}) is claimed by {holder}",
                    task_id=task_id,
                    state=f"claimed by {holder}",
                )
            event = NewEvent(
                EventKind.TASK_CLAIMED if claim else EventKind.TASK_UNCLAIMED,
                ("认领: " if claim else "退回待认领: ") + row.name,
                task_id=row.id,
                section=row.section_code,
            )
            self.runtime.history.record(session, row.case_id, [event], actor=user)
            session.refresh(row)
            case = session.get(CaseRow, row.case_id)
            assert case is not None
            return task_view(row, case, self._name_en(session, case.definition_id, row.bpmn_id))

    # -- completing ---------------------------------------------------------------------------------
    def complete(self, task_id: str, *, user: str, data: dict[str, Any] | None = None) -> TaskView:
        """Validate ``data`` against the task's form, complete the task and run the case on."""
        data = dict(data or {})
        try:
            with self.runtime.transaction() as session:
                return self._complete_in(session, task_id, user, data)
        except WorkflowError as err:  # the BPMN failed (script, condition, budget): rolled back
            if self.incidents is None:
                raise
            raise self.incidents.record_task_failure(str(task_uuid(task_id)), user, data, err) from None

    def _complete_in(
        self, session: Session, task_id: str, user: str, data: dict[str, Any], *, trusted: bool = False
    ) -> TaskView:
        """``complete`` inside the caller's ``runtime.transaction()``; ``trusted``: the caller has checked that
        ``user`` may act on the task although he is no member of its section (an auditor's review)."""
        uid = task_uuid(task_id)
        found, case = self._lock_ready(session, task_id, user, what=f"complete task {task_id}", trusted=trusted)
        bundle = self.runtime.bundle(session, case.definition_id)
        assert case.id is not None
        check_four_eyes(
            session,
            case_id=case.id,
            case_no=case.case_no,
            matter=bundle.matter,
            bpmn_id=found.bpmn_id,
            step=found.name,
            user=user,
            what=f"complete task {task_id}",
        )
        schema = bundle.forms.get(found.form) if found.form else None
        if schema is not None:
            validate_data(schema, data, context=f"task '{found.name}' form {found.form}")
        elif data:
            raise ValidationError(
                f"task '{found.name}'", [FieldError("(form)", "this task has no form and takes no data")]
            )
        workflow = self.runtime.load(session, case)
        task = workflow.get_task_from_id(uid)
        if task is None or task.state != SpiffState.READY:
            assert case.id is not None
            self.runtime.forget(case.id)
            # The task row as it is now, not as it was before the case lock was granted.
            now = session.execute(_TASK_NOW, {"tid": found.id}).one()
            if now.state != TaskState.READY:
                by = f" by {now.completed_by}" if now.completed_by else ""
                raise ConflictError(
                    f"task '{found.name}' ({task_id}) was already {now.state}{by}", task_id=task_id, state=now.state
                )
            raise ConflictError(
                f"task '{found.name}' ({task_id}) is no longer ready", task_id=task_id, state="not ready"
            )
        meta = bundle.node(found.bpmn_id)
        if meta is not None and meta.check:
            for check in self.checks:
                check(session, case, bundle, meta, task.data, data)
        with self.runtime.stepping(user, workflow) as step:
            step.events.append(
                NewEvent(
                    EventKind.TASK_COMPLETED,
                    found.name,
                    task_id=found.id,
                    section=found.section_code,
                    data={"form": data},
                )
            )
            self.runtime.run_user_task(workflow, task, data, step)
            self.runtime.save(session, case, workflow, step)
        # The row was closed with a bulk UPDATE; report it as it now stands without reading it back.
        return TaskView(
            id=found.id,
            case_no=case.case_no,
            name=found.name,
            bpmn_id=found.bpmn_id,
            lane=found.lane,
            section=found.section_code,
            form=found.form,
            state=TaskState.COMPLETED,
            claimed_by=found.claimed_by,
            created_at=found.created_at,
            due_at=found.due_at,
            completed_at=step.at,
            completed_by=user,
            matter=case.matter_key,
            applicant=case.applicant_name,
            case_due_at=case.committed_due_at,
            case_paused=case.paused_at is not None,
            channel=case.channel,
            name_en=bundle.name_en(found.bpmn_id),
        )

    # -- sending back -------------------------------------------------------------------------------
    def _lock_ready(
        self, session: Session, task_id: str, user: str, *, what: str, trusted: bool = False
    ) -> tuple[Row[*tuple[Any, ...]], CaseState]:
        """The task ``user`` acts on, its case locked: it exists, he works in its section (unless ``trusted``),
        it is READY and claimed by nobody else. One statement finds the task, locks its case and says whether
        the user works in the task's section; the reason is looked up only when the answer is no. Core, built
        once: no ORM object is loaded or flushed while a case steps."""
        found = session.connection().execute(_FIND_AND_LOCK, {"tid": str(task_uuid(task_id)), "user": user}).first()
        if found is None:
            raise NotFoundError.unknown("task", task_id)
        if not found.is_member and not trusted:
            self._check_member(session, found.section_code, found.name, found.id, user)
        if found.state != TaskState.READY:
            by = f" by {found.completed_by}" if found.completed_by else ""
            raise ConflictError(
                f"task '{found.name}' ({task_id}) was already {found.state}{by}", task_id=task_id, state=found.state
            )
        if found.claimed_by and found.claimed_by != user:
            raise PermissionDeniedError(
                f"task '{found.name}' ({task_id}) is claimed by {found.claimed_by}", user=user, what=what
            )
        return found, CaseState.from_row(found)

    def send_back(self, task_id: str, *, user: str, reason: str) -> TaskView:
        """退回上一环节: the READY task ``task_id`` is closed and the previous human step of its case opens again
        for its section, claimed by whoever completed it; ``reason`` (required) goes into the history. The
        previous step is found as ``send_back.plan_send_back`` says; a ``ConflictError`` says why there is
        none. Returns the reopened task."""
        why = reason.strip()
        if not why:
            raise ValidationError(f"send back task {task_id}", [FieldError("reason", "a reason is required")])
        if len(why) > 500:
            raise ValidationError(
                f"send back task {task_id}", [FieldError("reason", f"{len(why)} characters; at most 500")]
            )
        uid = task_uuid(task_id)
        with self.runtime.transaction() as session:
            found, case = self._lock_ready(session, task_id, user, what=f"send back task {task_id}")
            bundle = self.runtime.bundle(session, case.definition_id)
            workflow = self.runtime.load(session, case)
            task = workflow.get_task_from_id(uid)
            if task is None or task.state != SpiffState.READY:
                assert case.id is not None
                self.runtime.forget(case.id)
                raise ConflictError(
                    f"task '{found.name}' ({task_id}) is no longer ready", task_id=task_id, state="not ready"
                )
            plan = plan_send_back(bundle, task)
            if plan.target is None:
                assert case.id is not None
                self.runtime.forget(case.id)  # nothing changed, but the workflow was taken out of the cache
                raise ConflictError(
                    f"task '{found.name}' ({task_id}) cannot be sent back: {plan.refusal}",
                    task_id=task_id,
                    state="no previous step",
                )
            target_id = str(plan.target.id)
            before = session.execute(
                select(TaskRow.name, TaskRow.section_code, TaskRow.completed_by).where(TaskRow.id == target_id)
            ).first()
            if before is None:  # a step of the process without a worklist row (nobody's task): not one to reopen
                assert case.id is not None
                self.runtime.forget(case.id)
                raise ConflictError(
                    f"task '{found.name}' ({task_id}) cannot be sent back: its previous step is no one's task",
                    task_id=task_id,
                    state="no previous step",
                )
            with self.runtime.stepping(user, workflow) as step:
                step.sent_back.add(found.id)
                step.reopened[target_id] = before.completed_by
                step.events.append(
                    NewEvent(
                        EventKind.TASK_SENT_BACK,
                        f"退回: {found.name} → {before.name}(理由: {why})",
                        task_id=found.id,
                        section=found.section_code,
                        data={"to_task": target_id, "to": before.name, "reason": why, "assignee": before.completed_by},
                    )
                )
                try:
                    reset_to(workflow, plan, task)
                except SpiffWorkflowException as err:
                    raise WorkflowError(f"send back task {task_id}: {err}") from None
                self.runtime.run_engine(workflow, step)
                self.runtime.save(session, case, workflow, step)
            if target_id not in {str(t.id) for t in step.opened}:
                raise WorkflowError(f"send back task {task_id}: '{before.name}' did not open again")
            reopened = self._task_row(session, target_id)
            owner = session.get(CaseRow, reopened.case_id)
            assert owner is not None
            return task_view(reopened, owner, self._name_en(session, owner.definition_id, reopened.bpmn_id))

    # -- reassigning --------------------------------------------------------------------------------
    def set_assignee(self, task_id: str, *, by: UserAccount, to: str | None, reason: str = "") -> TaskView:
        """A section chief hands a READY task of his section to a member of it (``to=None``: to nobody), with
        the reason recorded in the history."""
        with self.db.writing() as session:
            row = self._task_row(session, task_id)
            if not by.chief_of(row.section_code):
                raise PermissionDeniedError(
                    f"only a chief of section '{row.section_code}' may reassign its tasks",
                    user=by.username,
                    what=f"reassign task {task_id}",
                )
            if row.state != TaskState.READY:
                raise ConflictError(
                    f"task '{row.name}' ({task_id}) is already {row.state}", task_id=task_id, state=row.state
                )
            if to:
                member = session.scalar(
                    select(
                        exists().where(
                            UserRow.username == to,
                            UserRow.active.is_(True),
                            UserSectionRow.user_id == UserRow.id,
                            UserSectionRow.section_code == row.section_code,
                        )
                    )
                )
                if not member:
                    raise ValidationError(
                        f"task '{row.name}'", [FieldError("assignee", f"'{to}' is not a member of {row.section_code}")]
                    )
                refuse_absent(session, to, self.clock.now(), what=f"be given task {task_id}")
            self.runtime.lock_case(session, row.case_id)  # before the task's row, as in _set_claim
            previous, row.claimed_by = row.claimed_by, to or None
            why = reason.strip()
            event = NewEvent(
                EventKind.TASK_REASSIGNED,
                f"改派: {row.name} → {to or '待认领'}" + (f"(理由: {why})" if why else ""),
                task_id=row.id,
                section=row.section_code,
                data={"from": previous, "to": to or None, **({"reason": why} if why else {})},
            )
            session.flush()
            self.runtime.history.record(session, row.case_id, [event], actor=by.username)
            case = session.get(CaseRow, row.case_id)
            assert case is not None
            return task_view(row, case, self._name_en(session, case.definition_id, row.bpmn_id))

    # -- urging ------------------------------------------------------------------------------------------
    def urge(self, task_id: str, *, by: UserAccount, note: str = "") -> TaskView:
        """催办: a chief of the task's section, or of the case's lead section, urges an open step; the history
        records it and the step's page shows it to whoever works it."""
        with self.db.writing() as session:
            row = self._task_row(session, task_id)
            case = self.runtime.lock_case(session, row.case_id)
            lead = self.runtime.bundle(session, case.definition_id).matter.lead_section
            if not (by.chief_of(row.section_code) or by.chief_of(lead)):
                raise PermissionDeniedError(
                    f"only a chief of section '{row.section_code}' or of the lead section '{lead}' may urge this task",
                    user=by.username,
                    what=f"urge task {task_id}",
                )
            if row.state != TaskState.READY:
                raise ConflictError(
                    f"task '{row.name}' ({task_id}) is already {row.state}", task_id=task_id, state=row.state
                )
            text = note.strip()[:500]
            event = NewEvent(
                EventKind.TASK_URGED,
                f"催办: {row.name}" + (f"({text})" if text else ""),
                task_id=row.id,
                section=row.section_code,
                data={"note": text, "claimed_by": row.claimed_by},
            )
            self.runtime.history.record(session, row.case_id, [event], actor=by.username)
            return task_view(row, case, self._name_en(session, case.definition_id, row.bpmn_id))

    # -- helpers ------------------------------------------------------------------------------------
    def _views(self, session: Session, rows: Iterable[Any]) -> list[TaskView]:
        """Task views of ``_VIEW_ROWS`` rows, with each step's English name from its deployed version."""
        return [_view_of(r, self._name_en(session, r.definition_id, r.bpmn_id)) for r in rows]

    def _name_en(self, session: Session, definition_id: int, bpmn_id: str) -> str:
        return self.runtime.outline(session, definition_id).name_en(bpmn_id)

    def _task_row(self, session: Session, task_id: str) -> TaskRow:
        row = session.get(TaskRow, str(task_uuid(task_id)))
        if row is None:
            raise NotFoundError.unknown("task", task_id)
        return row

    def _check_member(self, session: Session, section_code: str | None, name: str, task_id: str, user: str) -> None:
        sections = set(
            session.scalars(
                select(UserSectionRow.section_code)
                .join(UserRow, UserRow.id == UserSectionRow.user_id)
                .where(UserRow.username == user, UserRow.active.is_(True))
            )
        )
        if section_code in sections:
            return
        if section_code and section_code.startswith(DEPARTMENT_QUEUE):
            department = section_code.removeprefix(DEPARTMENT_QUEUE)
            liaison = session.scalar(
                select(UserRow.id).where(
                    UserRow.username == user,
                    UserRow.active.is_(True),
                    UserRow.role == "supervisor",
                    UserRow.department_code == department,
                )
            )
            if liaison is not None:
                return
        if not sections and session.scalar(select(UserRow.id).where(UserRow.username == user)) is None:
            raise NotFoundError.unknown("user", user)
        mine = ", ".join(sorted(sections)) or "none"
        raise PermissionDeniedError(
            f"task '{name}' belongs to section '{section_code}'; {user} works in: {mine}",
            user=user,
            what=f"act on task {task_id}",
        )

    def _section_unknown(self, session: Session, section: str) -> bool:
        return session.get(SectionRow, section) is None


def _view_of(r: Any, name_en: str = "") -> TaskView:
    """A task view from a row of ``_VIEW_ROWS``."""
    return TaskView(
        id=r.id,
        case_no=r.case_no,
        name=r.name,
        bpmn_id=r.bpmn_id,
        lane=r.lane,
        section=r.section_code,
        form=r.form,
        state=r.state,
        claimed_by=r.claimed_by,
        created_at=r.created_at,
        due_at=r.due_at,
        completed_at=r.completed_at,
        completed_by=r.completed_by,
        matter=r.matter_key,
        applicant=r.applicant_name,
        case_due_at=r.committed_due_at,
        case_paused=r.paused_at is not None,
        channel=r.channel,
        point=r.point,
        name_en=name_en,
    )


def _ready(
    sections: Sequence[str], task_where: Sequence[ColumnElement[bool]], case_where: Sequence[ColumnElement[bool]]
) -> Any:
    """Ids of READY tasks of ``sections`` that pass both filters (a select, not run)."""
    query = select(TaskRow.id)
    if case_where:
        query = query.join(CaseRow, CaseRow.id == TaskRow.case_id)
    where = TaskRow.section_code == sections[0] if len(sections) == 1 else TaskRow.section_code.in_(sections)
    return query.where(where, TaskRow.state == TaskState.READY, *task_where, *case_where)
