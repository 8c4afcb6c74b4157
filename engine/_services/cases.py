"""Cases (办件): start one with the applicant's data, read its state, open tasks and history."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._config.forms import validate_data
from .._errors import FieldError, NotFoundError, ValidationError
from .._store.db import Database
from .._store.models import CaseRow, CounterRow, DefinitionRow, EventRow, TaskRow
from .._time.clock import Clock
from .._time.workcalendar import CHINA_TZ
from .repository import RepositoryService
from .runtime import CaseStatus, Runtime
from .users import UserAccount

if TYPE_CHECKING:
    from .pages import CasePage, PageService

__all__ = ["CaseService", "CaseSummary", "CaseView", "EventView", "TaskView", "summary_of", "task_view"]

APPLICANT_NAME_FIELDS = ("enterprise_name", "applicant_name", "name", "company_name")


@dataclass(frozen=True)
class TaskView:
    id: str
    case_no: str
    name: str
    bpmn_id: str
    lane: str | None
    section: str | None
    form: str | None
    state: str
    claimed_by: str | None
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None = None
    completed_by: str | None = None
    matter: str = ""
    applicant: str = ""
    case_due_at: datetime | None = None
    case_paused: bool = False  # a special procedure stopped the case's clock

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class EventView:
    at: datetime
    kind: str
    actor: str
    title: str
    section: str | None
    task_id: str | None
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class CaseSummary:
    case_no: str
    matter: str
    matter_name: str
    version: int
    status: str
    status_label: str
    applicant_name: str
    created_at: datetime
    accepted_at: datetime | None
    committed_due_at: datetime | None
    legal_due_at: datetime | None
    finished_at: datetime | None
    paused_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class CaseView:
    summary: CaseSummary
    applicant: dict[str, Any]
    open_tasks: list[TaskView]
    history: list[EventView]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary.to_dict(),
            "applicant": self.applicant,
            "open_tasks": [t.to_dict() for t in self.open_tasks],
            "history": [e.to_dict() for e in self.history],
        }


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}


def task_view(row: TaskRow, case: CaseRow) -> TaskView:
    return TaskView(
        id=row.id,
        case_no=case.case_no,
        name=row.name,
        bpmn_id=row.bpmn_id,
        lane=row.lane,
        section=row.section_code,
        form=row.form,
        state=row.state,
        claimed_by=row.claimed_by,
        created_at=row.created_at,
        due_at=row.due_at,
        completed_at=row.completed_at,
        completed_by=row.completed_by,
        matter=case.matter_key,
        applicant=case.applicant_name,
        case_due_at=case.committed_due_at,
        case_paused=case.paused_at is not None,
    )


def summary_of(row: CaseRow, matter_name: str, version: int) -> CaseSummary:
    """The summary of a loaded case row."""
    return CaseSummary(
        case_no=row.case_no,
        matter=row.matter_key,
        matter_name=matter_name,
        version=version,
        status=row.status,
        status_label=CaseStatus.LABELS.get(row.status, row.status),
        applicant_name=row.applicant_name,
        created_at=row.created_at,
        accepted_at=row.accepted_at,
        committed_due_at=row.committed_due_at,
        legal_due_at=row.legal_due_at,
        finished_at=row.finished_at,
        paused_at=row.paused_at,
    )


def applicant_name(data: dict[str, Any]) -> str:
    for key in APPLICANT_NAME_FIELDS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return ""


class CaseService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        runtime: Runtime,
        repository: RepositoryService,
        *,
        case_prefix: str,
        pages: PageService | None = None,
    ) -> None:
        self.pages = pages
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.repository = repository
        self.case_prefix = case_prefix

    def start(self, matter_key: str, applicant: dict[str, Any], *, actor: str = "") -> CaseSummary:
        """Register a case (已接件) and run it to its first human task, in one transaction."""
        if not isinstance(applicant, dict):
            raise ValidationError("application data", [FieldError("(form)", "must be a JSON object")])
        with self.runtime.transaction() as session:
            return self.start_in_session(session, matter_key, applicant, actor)

    def start_in_session(self, session: Session, matter_key: str, applicant: dict[str, Any], actor: str) -> CaseSummary:
        """``start`` inside the caller's transaction (the window's intake registers and checks in one).

        The session must come from ``runtime.transaction()``, which commits and updates the cache.
        """
        definition = self.repository.latest(session, matter_key)
        bundle = self.runtime.bundle(session, definition.id)
        form = bundle.matter.application_form
        if form:
            validate_data(bundle.forms[form], applicant, context=f"application data for '{matter_key}' ({form})")
        now = self.clock.now()
        row = CaseRow(
            case_no=self._next_case_no(session, now),
            definition_id=definition.id,
            matter_key=matter_key,
            status=CaseStatus.RECEIVED,
            applicant_name=applicant_name(applicant),
            applicant=applicant,
            created_at=now,
            created_by=actor,
            version=0,
        )
        with self.runtime.stepping(actor) as step:
            workflow = self.runtime.new_workflow(
                bundle, {"applicant": applicant, "matter": bundle.matter.process_data(), "case_no": row.case_no}
            )
            step.events.append(
                self.runtime.event("case_started", step, f"接件: {bundle.matter.name}", data={"applicant": applicant})
            )
            self.runtime.run_engine(workflow, step)
            self.runtime.save(session, row, workflow, step)
        return self.summary_of(row, bundle.matter.name, definition.version)

    def _next_case_no(self, session: Session, now: datetime) -> str:
        """``WH-2026-000123``: one counter per prefix and year, incremented atomically."""
        name = f"{self.case_prefix}-{now.astimezone(CHINA_TZ).year}"
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        stmt = upsert(CounterRow).values(name=name, value=1)
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"value": CounterRow.value + 1})
        value = session.execute(stmt.returning(CounterRow.value)).scalar_one()
        return f"{name}-{value:06d}"

    def summary_of(self, row: CaseRow, matter_name: str, version: int) -> CaseSummary:
        """The summary of a loaded case row."""
        return summary_of(row, matter_name, version)

    def page(self, user: UserAccount, case_no: str) -> CasePage:
        """Everything the case page shows, read in one transaction (see ``PageService``)."""
        if self.pages is None:
            raise RuntimeError("CaseService.page needs the engine's PageService")
        return self.pages.case(user, case_no)

    def get_row(self, session: Session, case_no: str) -> CaseRow:
        row = session.scalars(select(CaseRow).where(CaseRow.case_no == case_no)).first()
        if row is None:
            raise NotFoundError(f"unknown case '{case_no}'")
        return row

    def show(self, case_no: str) -> CaseView:
        with self.db.reading() as session:
            row = self.get_row(session, case_no)
            definition = self.runtime.bundle(session, row.definition_id)
            def_row = session.get(DefinitionRow, row.definition_id)
            tasks = session.scalars(
                select(TaskRow).where(TaskRow.case_id == row.id, TaskRow.state == "ready").order_by(TaskRow.created_at)
            ).all()
            events = session.scalars(select(EventRow).where(EventRow.case_id == row.id).order_by(EventRow.id)).all()
            return CaseView(
                summary=self.summary_of(row, definition.matter.name, def_row.version if def_row else 0),
                applicant=dict(row.applicant or {}),
                open_tasks=[task_view(t, row) for t in tasks],
                history=[
                    EventView(e.at, e.kind, e.actor, e.title, e.section_code, e.task_id, dict(e.data or {}))
                    for e in events
                ],
            )
