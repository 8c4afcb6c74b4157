"""What the services hand out: plain frozen dataclasses, never ORM rows, so a caller cannot reach the
database through them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy import case as sql_case

from .._config.catalogue import Limit, Material, Matter
from .._config.describe import Described
from .._errors import FieldError, ValidationError
from .._states import CASE_STATUS_LABELS, CHANNEL_LABELS
from .._store.models import CaseRow, TaskRow
from .case_state import CaseState

__all__ = [
    "WORKLIST_SORTS",
    "CaseSummary",
    "CaseView",
    "DiagramSource",
    "EventView",
    "IncidentView",
    "IntakeResult",
    "MaterialsStatus",
    "Page",
    "ProcessStep",
    "TaskView",
    "WorklistFilter",
    "summary_of",
    "task_view",
]

T = TypeVar("T")


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
    channel: str = "window"  # how the case came in (window, online, agent, api)
    point: str = "district"  # the service point that received the case
    name_en: str = ""  # the step's English name (``name_en`` in the BPMN); "" where it gives none

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class EventView:
    """One history entry. ``fields`` describes a submitted form by its schema's titles and ``title_en`` is a
    completed step's English name; both are filled only where the entry is shown to people (the case page's
    timeline), never in ``to_dict``."""

    at: datetime
    kind: str
    actor: str
    title: str
    section: str | None
    task_id: str | None
    data: dict[str, Any]
    fields: list[Described] = field(default_factory=list)
    title_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = _jsonable(asdict(self))
        del out["fields"], out["title_en"]
        return out


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
    channel: str = "window"
    origin_case_no: str | None = None  # the case this follow-up case was started from
    point: str = "district"  # the service point that received the case (bureau.toml [[points]])

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)

    def to_dict(self) -> dict[str, Any]:
        return {**_jsonable(asdict(self)), "channel_label": self.channel_label}


@dataclass(frozen=True)
class IncidentView:
    id: int
    case_no: str
    kind: str  # "task" or "timer"
    task_id: str | None
    task_name: str
    actor: str
    message: str
    status: str
    attempts: int
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class CaseView:
    summary: CaseSummary
    applicant: dict[str, Any]
    open_tasks: list[TaskView]
    history: list[EventView]
    incidents: list[IncidentView] = field(default_factory=list)
    query_code: str = ""  # the applicant's code for /hall/track: shown to staff, never in lists
    followups: list[CaseSummary] = field(default_factory=list)  # cases started from this one

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary.to_dict(),
            "query_code": self.query_code,
            "followups": [f.to_dict() for f in self.followups],
            "applicant": self.applicant,
            "open_tasks": [t.to_dict() for t in self.open_tasks],
            "history": [e.to_dict() for e in self.history],
            "incidents": [i.to_dict() for i in self.incidents],
        }


# The worklist's sortable columns (``WorklistFilter.sort``): the case's committed due date (the default, most
# urgent first), the task's arrival, the time left (the tighter of the step's own due date and the case's),
# the case number, the matter, the applicant.
WORKLIST_SORTS = ("due", "received", "left", "case_no", "matter", "applicant")


@dataclass(frozen=True)
class WorklistFilter:
    matter: str | None = None
    section: str | None = None
    mine: bool = False
    unclaimed: bool = False
    search: str = ""
    sort: str = "due"  # one of WORKLIST_SORTS
    descending: bool = False
    # Sorting by 事项 sorts by the name the reader sees, which depends on his language: the page passes the matter
    # keys in the order of their shown names. Without it, by key.
    matter_order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.sort not in WORKLIST_SORTS:
            raise ValidationError(
                "worklist filter", [FieldError("sort", f"'{self.sort}' is not one of {', '.join(WORKLIST_SORTS)}")]
            )

    def matter_rank(self) -> ColumnElement[Any]:
        """The case's matter as its place in ``matter_order``: one CASE in the statement (a matter not in it,
        deployed after the page read the list, comes after the others)."""
        if not self.matter_order:
            return CaseRow.matter_key.expression
        ranks = {key: i for i, key in enumerate(self.matter_order)}
        return sql_case(ranks, value=CaseRow.matter_key, else_=len(ranks))


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
class MaterialsStatus:
    matter: Matter
    received: list[str]
    missing: list[Material]  # required and not (yet) received, nor waived
    # 容缺: required, not received, accepted against the applicant's commitment; due after acceptance, so never
    # part of a 补正 notice
    waived: list[Material] = field(default_factory=list)


@dataclass(frozen=True)
class ProcessStep:
    """One step of the numbered list beside a diagram: what is done, by whom, within how long.

    ``section`` is the section code its lane maps to (None for a lane the catalogue does not map); ``lane``
    and ``lane_en`` are the lane's own names; ``limit`` is the step's own limit (``stepLimit``), None where
    the step has none and only the case's limit applies. On a case, ``state`` is ``done``, ``current`` (open
    now) or "" (not reached, or a branch the case did not take)."""

    number: int
    bpmn_id: str
    name: str
    name_en: str
    lane: str | None
    lane_en: str
    section: str | None
    limit: Limit | None
    kind: str  # the BPMN element: userTask, callActivity …
    state: str = ""


@dataclass(frozen=True)
class DiagramSource:
    """What a diagram is drawn from: the deployed BPMN and, for a case, its progress: ``done`` every
    element it has passed (scripts and gateways too), ``completed_tasks`` only its completed human tasks,
    ``current`` its open tasks."""

    bpmn_xml: bytes
    filename: str
    process_id: str
    title: str
    done: frozenset[str]
    current: frozenset[str]
    definition_id: int
    completed_tasks: frozenset[str] = frozenset()
    steps: tuple[ProcessStep, ...] = ()  # the steps in reading order, for the list beside the diagram


@dataclass(frozen=True)
class IntakeResult:
    summary: CaseSummary
    missing: list[Material]
    open_tasks: list[TaskView]


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}


def task_view(row: TaskRow, case: CaseRow, name_en: str = "") -> TaskView:
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
        channel=case.channel,
        point=case.point,
        name_en=name_en,
    )


def summary_of(row: CaseRow | CaseState, matter_name: str, version: int) -> CaseSummary:
    """The summary of a loaded case row."""
    return CaseSummary(
        case_no=row.case_no,
        matter=row.matter_key,
        matter_name=matter_name,
        version=version,
        status=row.status,
        status_label=CASE_STATUS_LABELS.get(row.status, row.status),
        applicant_name=row.applicant_name,
        created_at=row.created_at,
        accepted_at=row.accepted_at,
        committed_due_at=row.committed_due_at,
        legal_due_at=row.legal_due_at,
        finished_at=row.finished_at,
        paused_at=row.paused_at,
        channel=row.channel,
        origin_case_no=row.origin_case_no,
        point=row.point,
    )
