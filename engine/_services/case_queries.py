"""The read side of cases: who may see a case, a user's list of cases, and what one case holds (its
history described for people, the applicant's data, materials received and missing, its diagram)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from .._config.catalogue import Matter
from .._config.describe import Described, describe
from .._errors import NotFoundError
from .._states import TaskState
from .._store.db import Database
from .._store.models import CaseRow, DefinitionRow, TaskRow
from .._time.clock import Clock
from .case_state import CaseState
from .history import HistoryService
from .incidents import incidents_of
from .outline import mark_steps
from .query_codes import same_code
from .repository import RepositoryService
from .runtime import Runtime
from .tasks import like_pattern
from .users import UserAccount
from .views import CaseSummary, CaseView, DiagramSource, EventView, MaterialsStatus, Page, summary_of, task_view

__all__ = ["MATERIAL_FIELDS", "CaseQueries", "materials_from", "visible_to"]

# Form fields in which the window and each 补正 record the materials handed in.
MATERIAL_FIELDS = ("materials_received", "supplemented_materials", "supplied_materials")  # the last: 容缺补齐
WAIVED_FIELD = "waived_materials"  # 容缺受理 at the window


def materials_from(matter: Matter, forms: Sequence[Mapping[str, Any]]) -> MaterialsStatus:
    """Materials received at intake and in every 补正 (the submitted ``forms``), and the required ones
    still missing."""
    received: list[str] = []
    waived: set[str] = set()
    for form in forms:
        for name in MATERIAL_FIELDS:
            received += [m for m in form.get(name) or [] if isinstance(m, str) and m not in received]
        waived |= {m for m in form.get(WAIVED_FIELD) or [] if isinstance(m, str)}
    open_ = [m for m in matter.materials if m.required and m.code not in received]
    missing = [m for m in open_ if m.code not in waived]
    return MaterialsStatus(matter, received, missing, [m for m in open_ if m.code in waived])


class CaseQueries:
    """Reading cases; ``CaseService`` adds starting them and the window's intake."""

    def __init__(
        self, db: Database, clock: Clock, runtime: Runtime, repository: RepositoryService, history: HistoryService
    ) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.repository = repository
        self.history = history

    # -- one case -----------------------------------------------------------------------------------
    def show(self, case_no: str) -> CaseView:
        """State, applicant, open tasks and history (oldest first) of a case."""
        with self.db.reading() as session:
            row = self._row(session, case_no)
            definition = self.runtime.bundle(session, row.definition_id)
            def_row = session.get(DefinitionRow, row.definition_id)
            tasks = session.scalars(
                select(TaskRow)
                .where(TaskRow.case_id == row.id, TaskRow.state == TaskState.READY)
                .order_by(TaskRow.created_at)
            ).all()
            names = self.runtime.outline(session, row.definition_id)
            return CaseView(
                summary=self._summary(row, definition.matter.name, def_row.version if def_row else 0),
                applicant=dict(row.applicant or {}),
                open_tasks=[task_view(t, row, names.name_en(t.bpmn_id)) for t in tasks],
                history=self.history._entries(session, row.id),
                incidents=incidents_of(session, row),
                query_code=row.query_code or "",
                followups=self._followups(session, row.case_no),
            )

    def by_query_code(self, case_no: str, query_code: str) -> CaseView | None:
        """The case, if ``query_code`` is its code (查询码); None for a wrong code and an unknown case alike,
        so an answer never tells whether a case number exists."""
        with self.db.reading() as session:
            stored = session.scalar(select(CaseRow.query_code).where(CaseRow.case_no == case_no.strip()))
        if not same_code(stored, query_code):
            return None
        return self.show(case_no.strip())

    def _followups(self, session: Session, case_no: str) -> list[CaseSummary]:
        """The cases started from this one, oldest first."""
        rows = session.execute(
            select(CaseRow, DefinitionRow.name, DefinitionRow.version)
            .join(DefinitionRow, DefinitionRow.id == CaseRow.definition_id)
            .where(CaseRow.origin_case_no == case_no)
            .order_by(CaseRow.id)
        ).all()
        return [self._summary(c, name, version) for c, name, version in rows]

    def timeline(self, case_no: str) -> list[EventView]:
        """The history with submitted forms described by their schema titles (oldest first)."""
        with self.db.reading() as session:
            row = self._row(session, case_no)
            return self.history._entries(session, row.id, described=self.runtime.bundle(session, row.definition_id))

    def applicant(self, case_no: str) -> list[Described]:
        """The application form's data, each field with its schema title."""
        with self.db.reading() as session:
            row = self._row(session, case_no)
            bundle = self.runtime.bundle(session, row.definition_id)
            schema = bundle.forms.get(bundle.matter.application_form or "", {})
            return describe(schema, dict(row.applicant or {}), bundle.matter)

    def materials(self, case_no: str) -> MaterialsStatus:
        """Materials received at intake and in every 补正, and the required ones still missing."""
        with self.db.reading() as session:
            row = self._row(session, case_no)
            matter = self.runtime.bundle(session, row.definition_id).matter
            forms = self.history._forms_submitted(session, row.id)
        return materials_from(matter, forms)

    def diagram(self, case_no: str) -> DiagramSource:
        """The case's own version of its matter, with the nodes it has passed and its open tasks."""
        with self.db.reading() as session:
            row = self._row(session, case_no)
            tasks = session.execute(select(TaskRow.bpmn_id, TaskRow.state).where(TaskRow.case_id == row.id)).all()
            source = self.repository._diagram(session, row.definition_id)
            done, waiting = self.runtime.node_states(session, row)
        current = frozenset(b for b, s in tasks if s == TaskState.READY) | waiting
        completed = frozenset(b for b, s in tasks if s == TaskState.COMPLETED)
        steps = mark_steps(source.steps, done | completed, current)
        return replace(source, done=done, current=current, completed_tasks=completed, steps=steps)

    # -- who may see what ---------------------------------------------------------------------------
    def can_view(self, user: UserAccount, case_no: str) -> bool:
        with self.db.reading() as session:
            return bool(session.scalar(select(exists().where(CaseRow.case_no == case_no, visible_to(user)))))

    def check_access(self, user: UserAccount, case_no: str) -> None:
        """NotFoundError for an unknown case and, in the same words, for one outside the user's sections:
        a clerk cannot tell a case he may not see from one that does not exist (no enumeration)."""
        with self.db.reading() as session:
            row = self._row(session, case_no)
            if not session.scalar(select(exists().where(CaseRow.id == row.id, visible_to(user)))):
                raise NotFoundError.unknown("case", case_no)

    def page_for(
        self,
        user: UserAccount,
        *,
        search: str = "",
        matter: str | None = None,
        status: str | None = None,
        page: int = 1,
        per_page: int = 20,
    ) -> Page[CaseSummary]:
        """The cases a user may open, newest first, one page of them (of one matter and status when given)."""
        page, per_page = max(1, page), min(max(1, per_page), 200)
        query = (
            select(CaseRow, DefinitionRow.name, DefinitionRow.version)
            .join(DefinitionRow, DefinitionRow.id == CaseRow.definition_id)
            .where(visible_to(user))
        )
        if matter:
            query = query.where(CaseRow.matter_key == matter)
        if status:
            query = query.where(CaseRow.status == status)
        if search.strip():
            pattern = like_pattern(search.strip())
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
            return Page([self._summary(c, name, version) for c, name, version in rows], total, page, per_page)

    # -- helpers ------------------------------------------------------------------------------------
    def _row(self, session: Session, case_no: str) -> CaseRow:
        row = session.scalars(select(CaseRow).where(CaseRow.case_no == case_no)).first()
        if row is None:
            raise NotFoundError.unknown("case", case_no)
        return row

    @staticmethod
    def _summary(row: CaseRow | CaseState, matter_name: str, version: int) -> CaseSummary:
        return summary_of(row, matter_name, version)


def visible_to(user: UserAccount) -> ColumnElement[bool]:
    """Cases a user may open: any task of the case in one of his sections, or he registered it (an
    administrator, an auditor and 纪检: every case)."""
    if user.is_admin or user.reads_all:
        return literal(True)
    touches = exists().where(TaskRow.case_id == CaseRow.id, TaskRow.section_code.in_(user.work_queues))
    return or_(touches, CaseRow.created_by == user.username)
