"""One read per page: everything the case page or the task page shows, from one transaction.

A page used to call a service per box (case, timeline, applicant, materials, clock, diagram, names), each
opening its own session and re-reading the case row: about ten sessions and thirty statements. Here the
case row comes with its definition and the visibility check in one statement, then the case's task rows,
its history, the clock's pauses and extensions (once accepted) and the display names follow in the same
transaction; the materials and the timeline are worked out from the history already read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, undefer

from .._bpmn.definitions import ProcessBundle
from .._config.catalogue import Matter
from .._config.describe import Described, describe
from .._errors import NotFoundError
from .._states import EventKind, TaskState
from .._store.db import Database
from .._store.models import CaseRow, DefinitionRow, EventRow, TaskRow, UserRow, UserSectionRow
from .._time.case_clock import ClockView
from .._time.clock import Clock
from .audit import ChainBreak, chain_break_of
from .case_clock import CaseClockService
from .case_queries import materials_from, visible_to
from .documents import DocumentView, delivery_from_events, documents_from_events, kinds_for_milestone
from .file_views import MaterialSet
from .files import material_set_from
from .four_eyes import four_eyes_conflict
from .history import event_views
from .incidents import incidents_from_events
from .outbox import OutboxMessage, OutboxService
from .outline import mark_steps
from .patterns import PatternService, PatternsPart
from .phrases import Phrase, phrases_of
from .point_access import other_points_work
from .privacy import Exposure, exposure_for, mask_described
from .runtime import Runtime, task_uuid
from .users import UserAccount
from .views import (
    CaseSummary,
    DiagramSource,
    EventView,
    IncidentView,
    MaterialsStatus,
    TaskView,
    summary_of,
    task_view,
)

__all__ = ["CasePage", "Member", "PageService", "TaskPage"]

_PATTERN_EVENTS = frozenset({EventKind.EVALUATION, EventKind.INTERMEDIARY, EventKind.MEETING})


@dataclass(frozen=True)
class Member:
    """A member of a section, as a chief's reassign list shows him."""

    username: str
    display_name: str


@dataclass(frozen=True)
class CasePage:
    """Everything ``/cases/<no>`` shows."""

    summary: CaseSummary
    matter: Matter
    open_tasks: list[TaskView]
    timeline: list[EventView]
    applicant: list[Described]
    materials: MaterialsStatus
    clock: ClockView
    diagram: DiagramSource
    user_names: dict[str, str]
    incidents: list[IncidentView] = field(default_factory=list)
    query_code: str = ""
    # Cases started from this one (case number, title of the history entry that started it): read off the
    # history, so the page needs no further query.
    followups: list[tuple[str, str]] = field(default_factory=list)
    files: MaterialSet | None = None  # the materials as files, from the history already read
    # The documents issued (and revoked) and the delivery, read off the history as well.
    documents: list[DocumentView] = field(default_factory=list)
    delivery: dict[str, Any] | None = None
    # 审管信息共享: the messages to supervising departments, read only for a case whose history shared any
    shared: list[OutboxMessage] = field(default_factory=list)
    # The first broken record of the case's history chain (the page's red warning), None when intact.
    chain_break: ChainBreak | None = None
    # 多评合一, 网上中介 and 会审 on this case: read only for a case whose history shows any of them
    patterns: PatternsPart | None = None
    exposure: str = Exposure.FULL  # personal data: full, masked, or masked with 显示完整 (privacy.py)


@dataclass(frozen=True)
class TaskPage:
    """Everything ``/tasks/<id>`` shows: the task, its case, earlier opinions, the form, a chief's members."""

    task: TaskView
    case: CaseSummary
    matter: Matter
    timeline: list[EventView]
    applicant: list[Described]
    materials: MaterialsStatus
    form_schema: dict[str, Any] | None
    members: list[Member]
    user_names: dict[str, str]
    files: MaterialSet | None = None
    documents: list[DocumentView] = field(default_factory=list)  # the case's, from its history
    issues: list[str] = field(default_factory=list)  # the kinds completing this task issues (its preview)
    exposure: str = Exposure.FULL  # personal data: full, masked, or masked with 显示完整 (privacy.py)
    # 四眼原则: the step this user completed that forbids him this one ("" when he may take it)
    four_eyes: str = ""
    # co-review opinions that disagree (co_agree = false): shown above the decision form
    dissent: list[EventView] = field(default_factory=list)
    phrases: list[Phrase] = field(default_factory=list)  # 常用意见 offered to the user (his own, his sections')


class PageService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime, case_clock: CaseClockService) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime
        self.case_clock = case_clock
        self.outbox: OutboxService | None = None  # wired by the engine
        self.patterns: PatternService | None = None  # wired by the engine
        self.intake_sections: frozenset[str] = frozenset()  # the bureau's intake windows (who took the data)
        self.window_sections: frozenset[str] = frozenset()  # set by the engine (bureau.window_sections())

    def case(self, user: UserAccount, case_no: str) -> CasePage:
        """The case page; NotFoundError for an unknown case and, in the same words, for one outside the
        user's sections (no enumeration of case numbers)."""
        with self.db.reading() as session:
            found = session.execute(
                select(
                    CaseRow,
                    DefinitionRow.version,
                    DefinitionRow.bpmn_xml,
                    DefinitionRow.bpmn_file,
                    DefinitionRow.process_id,
                    DefinitionRow.name,
                    visible_to(user).label("visible"),
                )
                .join(DefinitionRow, DefinitionRow.id == CaseRow.definition_id)
                .where(CaseRow.case_no == case_no)
                .options(undefer(CaseRow.applicant))
            ).first()
            if found is None:
                raise NotFoundError.unknown("case", case_no)
            row, version, bpmn_xml, bpmn_file, process_id, title, visible = found
            if not visible:
                raise NotFoundError.unknown("case", case_no)
            bundle = self.runtime.bundle(session, row.definition_id)
            tasks = session.scalars(
                select(TaskRow).where(TaskRow.case_id == row.id).order_by(TaskRow.created_at, TaskRow.id)
            ).all()
            # With the workflow-state changes: the page walks the case's hash chain from the rows it shows.
            events = session.scalars(
                select(EventRow)
                .where(EventRow.case_id == row.id)
                .order_by(EventRow.id)
                .options(undefer(EventRow.state_delta))
            ).all()
            clock = self.case_clock._view(session, row, self.clock.now())
            done, at = self.runtime.node_states(session, row)
            open_tasks = [task_view(t, row, bundle.name_en(t.bpmn_id)) for t in tasks if t.state == TaskState.READY]
            names = _names(session, {e.actor for e in events} | {t.claimed_by or "" for t in open_tasks})
            summary = summary_of(row, bundle.matter.name, version)
            exposure = self._exposure(user, bundle.matter, tasks)
            return CasePage(
                summary=summary,
                matter=bundle.matter,
                open_tasks=open_tasks,
                timeline=_timeline(events, tasks, bundle),
                applicant=_applicant(bundle.forms, bundle.matter, row, exposure),
                exposure=exposure,
                materials=_materials(events, bundle.matter),
                clock=clock,
                diagram=DiagramSource(
                    bpmn_xml,
                    bpmn_file,
                    process_id,
                    title,
                    done,
                    frozenset(t.bpmn_id for t in open_tasks),
                    row.definition_id,
                    frozenset(t.bpmn_id for t in tasks if t.state == TaskState.COMPLETED),
                    # the step list: a call activity is current while a step of the process it calls is open
                    mark_steps(
                        self.runtime.outline(session, row.definition_id).steps,
                        done | {t.bpmn_id for t in tasks if t.state == TaskState.COMPLETED},
                        frozenset(t.bpmn_id for t in open_tasks) | at,
                    ),
                ),
                user_names=names,
                incidents=incidents_from_events(events, row.case_no),
                chain_break=chain_break_of(row.case_no, row.chain_seq, row.chain_head, events),
                query_code=row.query_code or "",
                followups=[
                    (str(e.data["case_no"]), e.title)
                    for e in events
                    if e.kind == EventKind.FOLLOWUP_STARTED and isinstance(e.data, dict) and e.data.get("case_no")
                ],
                files=material_set_from(row.case_no, bundle.matter, events),
                documents=documents_from_events(events, row.case_no),
                delivery=delivery_from_events(events),
                shared=(
                    self.outbox.of_case(session, row.id)
                    if self.outbox is not None and any(e.kind == EventKind.RESULT_SHARED for e in events)
                    else []
                ),
                patterns=(
                    self.patterns.part_in(session, row.case_no)
                    if self.patterns is not None and any(e.kind in _PATTERN_EVENTS for e in events)
                    else None
                ),
            )

    def task(self, user: UserAccount, task_id: str) -> TaskPage:
        """The task page; NotFoundError for an unknown task and, in the same words, for one outside the
        user's sections."""
        with self.db.reading() as session:
            found = session.execute(
                select(TaskRow, CaseRow, DefinitionRow.version)
                .join(CaseRow, CaseRow.id == TaskRow.case_id)
                .join(DefinitionRow, DefinitionRow.id == CaseRow.definition_id)
                .where(TaskRow.id == str(task_uuid(task_id)))
                .options(undefer(CaseRow.applicant))
            ).first()
            if found is None:
                raise NotFoundError.unknown("task", task_id)
            row, case, version = found
            if row.section_code not in user.work_queues and not user.reads_all:
                raise NotFoundError.unknown("task", task_id)
            if other_points_work(user, row.section_code, case.point, self.window_sections):
                raise NotFoundError.unknown("task", task_id)
            bundle = self.runtime.bundle(session, case.definition_id)
            tasks = session.scalars(select(TaskRow).where(TaskRow.case_id == case.id)).all()
            events = session.scalars(select(EventRow).where(EventRow.case_id == case.id).order_by(EventRow.id)).all()
            members: list[Member] = []
            if user.chief_of(row.section_code):
                members = [
                    Member(u, n)
                    for u, n in session.execute(
                        select(UserRow.username, UserRow.display_name)
                        .join(
                            UserSectionRow,
                            and_(UserSectionRow.user_id == UserRow.id, UserSectionRow.section_code == row.section_code),
                        )
                        .where(UserRow.active.is_(True))
                        .order_by(UserRow.username)
                    )
                ]
            names = _names(session, {e.actor for e in events} | {row.claimed_by or ""})
            exposure = self._exposure(user, bundle.matter, tasks)
            timeline = _timeline(events, tasks, bundle)
            done = [(t.bpmn_id, t.completed_by, t.name) for t in tasks if t.state == TaskState.COMPLETED]
            return TaskPage(
                task=task_view(row, case, bundle.name_en(row.bpmn_id)),
                case=summary_of(case, bundle.matter.name, version),
                matter=bundle.matter,
                timeline=timeline,
                applicant=_applicant(bundle.forms, bundle.matter, case, exposure),
                exposure=exposure,
                four_eyes=(
                    four_eyes_conflict(bundle.matter, row.bpmn_id, done, user.username) or ""
                    if row.state == TaskState.READY
                    else ""
                ),
                dissent=[
                    e
                    for e in timeline
                    if _decides(bundle.forms.get(row.form or ""), bundle.matter, row.bpmn_id)
                    and e.kind == EventKind.TASK_COMPLETED
                    and e.task_id != row.id
                    and (e.data.get("form") or {}).get("co_agree") is False
                ],
                materials=_materials(events, bundle.matter),
                form_schema=bundle.forms.get(row.form) if row.form else None,
                members=members,
                user_names=names,
                phrases=phrases_of(session, user),
                files=material_set_from(case.case_no, bundle.matter, events),
                documents=documents_from_events(events, case.case_no),
                issues=kinds_for_milestone(
                    meta.milestone if (meta := bundle.node(row.bpmn_id)) else None, bundle.matter
                )
                if row.state == TaskState.READY
                else [],
            )

    def _exposure(self, user: UserAccount, matter: Matter, tasks: Sequence[TaskRow]) -> Exposure:
        return exposure_for(
            user,
            lead_section=matter.lead_section,
            case_sections={t.section_code for t in tasks if t.section_code},
            intake_sections=self.intake_sections,
        )


def _decides(schema: Any, matter: Matter, bpmn_id: str) -> bool:
    """A decision step: its form decides (a ``decision`` field) or the catalogue names it an approval step."""
    rule = matter.four_eyes
    if rule is not None and bpmn_id in rule[1]:
        return True
    return isinstance(schema, dict) and "decision" in (schema.get("properties") or {})


def _names(session: Session, usernames: set[str]) -> dict[str, str]:
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = session.execute(select(UserRow.username, UserRow.display_name).where(UserRow.username.in_(wanted)))
    return {u: n for u, n in rows}


def _timeline(events: Sequence[EventRow], tasks: Sequence[TaskRow], bundle: ProcessBundle) -> list[EventView]:
    return event_views(
        events,
        form_of={t.id: t.form for t in tasks},
        schemas=bundle.forms,
        matter=bundle.matter,
        names_en={t.id: name for t in tasks if (name := bundle.name_en(t.bpmn_id))},
    )


def _materials(events: Sequence[EventRow], matter: Matter) -> MaterialsStatus:
    submitted = [
        e.data["form"]
        for e in events
        if e.kind == EventKind.TASK_COMPLETED and isinstance((e.data or {}).get("form"), dict)
    ]
    return materials_from(matter, submitted)


def _applicant(forms: dict[str, Any], matter: Matter, row: CaseRow, exposure: Exposure) -> list[Described]:
    schema = forms.get(matter.application_form or "", {})
    return mask_described(describe(schema, dict(row.applicant or {}), matter), schema, exposure)
