"""What the worklist reads and the few things only it writes: a user's tasks and cases, who may see what,
a chief's reassignment, and window intake (register + check materials) as one transaction.

Every query is bounded: the worklist is one indexed query on ``tasks(section_code, state)`` ordered by the
case's committed due date, plus one count; no per-row loading.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import exists, func, or_, select, union_all
from sqlalchemy.orm import Session

from .._config.catalogue import Material, Matter
from .._config.describe import Described, describe
from .._errors import ConflictError, FieldError, NotFoundError, PermissionDeniedError, ValidationError
from .._store.db import Database
from .._store.models import CaseRow, DefinitionRow, EventRow, TaskRow, UserRow, UserSectionRow
from .._time.clock import Clock
from .cases import CaseService, CaseSummary, TaskView, task_view
from .pages import DiagramSource, MaterialsStatus, TimelineEntry, materials_from, visible_to
from .runtime import CaseStatus, Runtime, task_uuid
from .tasks import TaskService
from .users import UserAccount

__all__ = [
    "DiagramSource",
    "IntakeResult",
    "MaterialsStatus",
    "Page",
    "TimelineEntry",
    "WorklistFilter",
    "WorklistService",
]

# A clerk with thousands of open tasks filters or searches rather than pages; counting stops here so the
# worklist costs the same with 30 or 30,000 open tasks ("1000+").
COUNT_CAP = 1000
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class WorklistFilter:
    matter: str | None = None
    section: str | None = None
    mine: bool = False
    unclaimed: bool = False
    search: str = ""


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int
    more: bool = False  # ``total`` is a lower bound: counting stopped at the cap

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class IntakeResult:
    summary: CaseSummary
    missing: list[Material]
    open_tasks: list[TaskView]


def _count(session: Session, query: Any, cap: int) -> int:
    """Rows of ``query``, counted up to ``cap + 1``."""
    return session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery())) or 0


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class WorklistService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, *, cases: CaseService, tasks: TaskService) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.cases = cases
        self.tasks = tasks
        self.count_cap = COUNT_CAP

    # -- the worklist -------------------------------------------------------------------------------
    def page(
        self, user: UserAccount, filters: WorklistFilter = WorklistFilter(), *, page: int = 1, per_page: int = 20
    ) -> Page[TaskView]:
        """READY tasks in the lanes of the user's sections, most urgent first, one page of them.

        Without a case-level filter both statements read only the task index: a count per section, and per
        section the first ``offset + per_page`` rows in index order, merged (UNION ALL) and cut to the page.
        An ``IN`` over several sections would lose the index order and sort every open task instead.
        """
        page, per_page = max(1, page), min(max(1, per_page), 200)
        sections = [s for s in user.sections if filters.section in (None, "", s)]
        task_where: list[Any] = [TaskRow.state == "ready"]
        if filters.mine:
            task_where.append(TaskRow.claimed_by == user.username)
        if filters.unclaimed:
            task_where.append(TaskRow.claimed_by.is_(None))
        case_where: list[Any] = []
        if filters.matter:
            case_where.append(CaseRow.matter_key == filters.matter)
        if filters.search.strip():
            pattern = _like(filters.search.strip())
            case_where.append(
                or_(CaseRow.case_no.ilike(pattern, escape="\\"), CaseRow.applicant_name.ilike(pattern, escape="\\"))
            )
        order = (TaskRow.sort_due, TaskRow.created_at, TaskRow.id)
        offset = (page - 1) * per_page
        if not sections:
            return Page([], 0, page, per_page)
        with self.db.reading() as session:
            if case_where:  # filters on the case: join first (the filter narrows the rows)
                joined = (
                    select(TaskRow.id)
                    .join(CaseRow, CaseRow.id == TaskRow.case_id)
                    .where(TaskRow.section_code.in_(sections), *task_where, *case_where)
                )
                counted = _count(session, joined, self.count_cap)
                ids = list(session.scalars(joined.order_by(*order).limit(per_page).offset(offset)))
            else:
                counted = sum(
                    _count(session, select(TaskRow.id).where(TaskRow.section_code == s, *task_where), self.count_cap)
                    for s in sections
                )
                heads = [
                    select(TaskRow.id, *order[:2])
                    .where(TaskRow.section_code == s, *task_where)
                    .order_by(*order)
                    .limit(offset + per_page)
                    .subquery()
                    for s in sections
                ]
                merged = union_all(*(select(h.c.id, h.c.sort_due, h.c.created_at) for h in heads)).subquery()
                ids = list(
                    session.scalars(
                        select(merged.c.id)
                        .order_by(merged.c.sort_due, merged.c.created_at, merged.c.id)
                        .limit(per_page)
                        .offset(offset)
                    )
                )
            rows = session.execute(
                select(TaskRow, CaseRow).join(CaseRow, CaseRow.id == TaskRow.case_id).where(TaskRow.id.in_(ids))
            ).all()
            by_id = {t.id: task_view(t, c) for t, c in rows}
            rows_out = [by_id[i] for i in ids if i in by_id]
            return Page(rows_out, min(counted, self.count_cap), page, per_page, more=counted > self.count_cap)

    def matters(self) -> list[Matter]:
        """The latest deployed version of every matter, by code."""
        with self.db.reading() as session:
            latest: dict[str, dict[str, Any]] = {}
            for key, catalogue in session.execute(
                select(DefinitionRow.matter_key, DefinitionRow.catalogue).order_by(DefinitionRow.version)
            ):
                latest[key] = catalogue
        return sorted((Matter.from_dict(c) for c in latest.values()), key=lambda m: m.code)

    def matter(self, matter_key: str) -> tuple[Matter, dict[str, Any]]:
        """A matter's catalogue and forms (latest version)."""
        with self.db.reading() as session:
            bundle = self.runtime.bundle(session, self.cases.repository.latest(session, matter_key).id)
            return bundle.matter, bundle.forms

    def intake_form(self, matter_key: str) -> str | None:
        """The form of the matter's first human task (the window's intake check)."""
        with self.db.reading() as session:
            bundle = self.runtime.bundle(session, self.cases.repository.latest(session, matter_key).id)
        queue, seen = deque(bundle.spec.start.outputs), set()
        while queue:
            spec = queue.popleft()
            if spec.name in seen:
                continue
            seen.add(spec.name)
            if getattr(spec, "manual", False):
                meta = bundle.node(spec.bpmn_id or "")
                return meta.form if meta else None
            queue.extend(spec.outputs)
        return None

    # -- who may see what ---------------------------------------------------------------------------
    def _visible(self, user: UserAccount) -> Any:
        """Cases a user may open: any task of the case in one of his sections, or he registered it."""
        return visible_to(user)

    def can_view_case(self, user: UserAccount, case_no: str) -> bool:
        with self.db.reading() as session:
            return bool(session.scalar(select(exists().where(CaseRow.case_no == case_no, self._visible(user)))))

    def check_case(self, user: UserAccount, case_no: str) -> None:
        """NotFoundError for an unknown case, PermissionDeniedError for one outside the user's sections."""
        with self.db.reading() as session:
            row = self.cases.get_row(session, case_no)
            if not session.scalar(select(exists().where(CaseRow.id == row.id, self._visible(user)))):
                raise PermissionDeniedError(f"case {case_no} does not touch the sections of {user.username}")

    def task_for(self, user: UserAccount, task_id: str) -> TaskView:
        """A task the user may open: its lane is one of his sections."""
        view = self.tasks.get(task_id)
        if view.section not in user.sections:
            raise PermissionDeniedError(f"task {task_id} belongs to section '{view.section}'")
        return view

    def cases_for(self, user: UserAccount, *, search: str = "", page: int = 1, per_page: int = 20) -> Page[CaseSummary]:
        page, per_page = max(1, page), min(max(1, per_page), 200)
        query = (
            select(CaseRow, DefinitionRow.name, DefinitionRow.version)
            .join(DefinitionRow, DefinitionRow.id == CaseRow.definition_id)
            .where(self._visible(user))
        )
        if search.strip():
            pattern = _like(search.strip())
            query = query.where(
                or_(CaseRow.case_no.ilike(pattern, escape="\\"), CaseRow.applicant_name.ilike(pattern, escape="\\"))
            )
        with self.db.reading() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.execute(
                query.order_by(CaseRow.created_at.desc(), CaseRow.id.desc())
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).all()
            return Page([self.cases.summary_of(c, name, version) for c, name, version in rows], total, page, per_page)

    # -- what a case holds --------------------------------------------------------------------------
    def timeline(self, case_no: str) -> list[TimelineEntry]:
        """The history with submitted forms described by their schema titles (oldest first)."""
        with self.db.reading() as session:
            row = self.cases.get_row(session, case_no)
            bundle = self.runtime.bundle(session, row.definition_id)
            forms = dict(session.execute(select(TaskRow.id, TaskRow.form).where(TaskRow.case_id == row.id)).all())
            events = session.scalars(select(EventRow).where(EventRow.case_id == row.id).order_by(EventRow.id)).all()
            out = []
            for e in events:
                fields: list[Described] = []
                if e.kind == "task_completed" and isinstance((e.data or {}).get("form"), dict):
                    schema = bundle.forms.get(forms.get(e.task_id or "") or "", {})
                    fields = describe(schema, e.data["form"], bundle.matter)
                out.append(TimelineEntry(e.at, e.kind, e.actor, e.title, e.section_code, e.task_id, fields))
            return out

    def applicant(self, case_no: str) -> list[Described]:
        with self.db.reading() as session:
            row = self.cases.get_row(session, case_no)
            bundle = self.runtime.bundle(session, row.definition_id)
            schema = bundle.forms.get(bundle.matter.application_form or "", {})
            return describe(schema, dict(row.applicant or {}), bundle.matter)

    def materials(self, case_no: str) -> MaterialsStatus:
        """Materials received at intake and in every 补正, and the required ones still missing."""
        with self.db.reading() as session:
            row = self.cases.get_row(session, case_no)
            matter = self.runtime.bundle(session, row.definition_id).matter
            forms = session.scalars(
                select(EventRow.data).where(EventRow.case_id == row.id, EventRow.kind == "task_completed")
            ).all()
        return materials_from(matter, forms)

    def diagram(self, case_no: str) -> DiagramSource:
        with self.db.reading() as session:
            row = self.cases.get_row(session, case_no)
            tasks = session.execute(select(TaskRow.bpmn_id, TaskRow.state).where(TaskRow.case_id == row.id)).all()
            source = self._diagram(session, row.definition_id)
            done = self.runtime.completed_nodes(session, row)
        current = frozenset(b for b, s in tasks if s == "ready")
        return DiagramSource(**{**source.__dict__, "done": done, "current": current})

    def matter_diagram(self, matter_key: str) -> DiagramSource:
        with self.db.reading() as session:
            return self._diagram(session, self.cases.repository.latest(session, matter_key).id)

    def _diagram(self, session: Session, definition_id: int) -> DiagramSource:
        d = session.execute(
            select(DefinitionRow.bpmn_xml, DefinitionRow.bpmn_file, DefinitionRow.process_id, DefinitionRow.name).where(
                DefinitionRow.id == definition_id
            )
        ).one()
        return DiagramSource(d[0], d[1], d[2], d[3], frozenset(), frozenset(), definition_id)

    # -- writing ------------------------------------------------------------------------------------
    def reassign(self, task_id: str, *, by: UserAccount, to: str | None) -> TaskView:
        """A section chief hands a READY task of his section to a member of it (``to=None``: to nobody)."""
        with self.db.writing() as session:
            row = session.get(TaskRow, str(task_uuid(task_id)))
            if row is None:
                raise NotFoundError(f"unknown task '{task_id}'")
            if not by.chief_of(row.section_code):
                raise PermissionDeniedError(f"only a chief of section '{row.section_code}' may reassign its tasks")
            if row.state != "ready":
                raise ConflictError(f"task '{row.name}' ({task_id}) is already {row.state}")
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
            previous, row.claimed_by = row.claimed_by, to or None
            session.add(
                EventRow(
                    case_id=row.case_id,
                    task_id=row.id,
                    kind="task_reassigned",
                    actor=by.username,
                    at=self.clock.now(),
                    title=f"改派: {row.name} → {to or '待认领'}",
                    section_code=row.section_code,
                    data={"from": previous, "to": to or None},
                )
            )
            session.flush()
            case = session.get(CaseRow, row.case_id)
            assert case is not None
            return task_view(row, case)

    def intake(self, matter_key: str, applicant: dict[str, Any], check: dict[str, Any], *, actor: str) -> IntakeResult:
        """统一受理: register the case and complete the window's intake check in ONE transaction.

        If either step fails (invalid application, invalid check, the actor not at the window) nothing is
        written, so no half-registered case is left behind. Field errors are prefixed ``applicant.`` or
        ``check.`` so a form can show each beside its box.
        """
        with self.runtime.transaction() as session:
            summary = _prefixed("applicant", lambda: self.cases.start_in_session(session, matter_key, applicant, actor))
            case = self.cases.get_row(session, summary.case_no)
            first = session.scalars(
                select(TaskRow)
                .where(TaskRow.case_id == case.id, TaskRow.state == "ready")
                .order_by(TaskRow.created_at, TaskRow.id)
            ).first()
            if first is not None:
                _prefixed("check", lambda: self.tasks.complete_in_session(session, first.id, actor, dict(check)))
            session.flush()
            session.refresh(case)
            bundle = self.runtime.bundle(session, case.definition_id)
            opened = session.scalars(
                select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.state == "ready").order_by(TaskRow.created_at)
            ).all()
            result_summary = self.cases.summary_of(case, bundle.matter.name, summary.version)
            open_views = [task_view(t, case) for t in opened]
        missing = self.materials(summary.case_no).missing if result_summary.status == CaseStatus.SUPPLEMENT else []
        return IntakeResult(result_summary, missing, open_views)


def _prefixed(prefix: str, step: Callable[[], R]) -> R:
    try:
        result = step()
    except ValidationError as err:
        raise ValidationError(
            err.context, [FieldError(f"{prefix}.{e.field}", e.message, e.title) for e in err.errors]
        ) from None
    return result
