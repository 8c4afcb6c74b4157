"""Database tables (SQLAlchemy 2.0, typed). Schema changes go through Alembic (``onewindow db upgrade``).

A process definition is stored once per deployed version; a case row holds only its own compressed
state, loaded on demand (``deferred``) so list queries never read it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "CaseRow",
    "CounterRow",
    "DefinitionRow",
    "DepartmentRow",
    "EventRow",
    "FeedbackRow",
    "IncidentRow",
    "OutboxRow",
    "SectionRow",
    "TaskRow",
    "UserRow",
    "UserSectionRow",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC on every backend (SQLite would silently drop the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: onewindow stores only timezone-aware instants")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


class SectionRow(Base):
    __tablename__ = "sections"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(32))
    seal_no: Mapped[str] = mapped_column(String(64), default="")


class DepartmentRow(Base):
    __tablename__ = "departments"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200), default="")


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default="clerk")
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    # a supervisor's supervising department (审管信息: its inbox, acknowledgements, feedback); checked by the
    # user service, no foreign key (adding one to SQLite's users would copy the table its sections cascade from)
    department_code: Mapped[str | None] = mapped_column(String(32), default=None)
    # The service point (bureau.toml [[points]]) whose windows the user works at; None: the district hall.
    # Checked against bureau.toml by the user service, like department_code.
    point_code: Mapped[str | None] = mapped_column(String(32), default=None)


class UserSectionRow(Base):
    __tablename__ = "user_sections"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    section_code: Mapped[str] = mapped_column(ForeignKey("sections.code"), primary_key=True)


class DefinitionRow(Base):
    """One deployed version of one matter: BPMN, catalogue and forms as they were at deploy time."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("matter_key", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    process_id: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    bpmn_file: Mapped[str] = mapped_column(String(300))
    bpmn_xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    catalogue: Mapped[dict[str, Any]] = mapped_column(JSON)
    forms: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    lane_sections: Mapped[dict[str, Any]] = mapped_column(JSON)
    # file name -> BPMN text of the other files whose processes the call activities call: deployed and
    # versioned with the matter, so a case keeps running on the set it started with
    called_bpmn: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True, deferred=True)
    # zlib's preset dictionary of this version's case snapshots (serialization.state_dictionary), made at
    # deploy; None for a version deployed before migration 0026 (its snapshots are plain zlib)
    state_dictionary: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(64), default="")


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    matter_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200), default="")
    applicant: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(16), default="window", server_default="window")
    # The applicant's key to /hall/track, printed on every receipt and notice (engine/_services/query_codes.py).
    query_code: Mapped[str | None] = mapped_column(String(8), default=None)
    # The case a follow-up case (回访整改, a correction after supervision …) was started from; checked by
    # CaseService.start, not by a foreign key (see migration 0008 for why).
    origin_case_no: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    # The service point that received the case (bureau.toml [[points]] code): its windows do the case's
    # window work (接件, 受理, 出证). Cases from before service points were modelled are the hall's.
    point: Mapped[str] = mapped_column(String(32), default="district", server_default="district")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    committed_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    legal_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    next_timer_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    paused_at: Mapped[datetime | None] = mapped_column(default=None)  # the legal clock stands still
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The last snapshot of the workflow state, taken at ``state_version``; the steps after it are replayed
    # from the history (``events.state_delta``), see engine/_store/serialization.py.
    state: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    state_version: Mapped[int] = mapped_column(Integer, default=0)
    # The head of the case's history chain (engine/_store/chain.py): how many events it has and the hash
    # of the last, so a deleted last event is noticed; ``sealed_seq`` is how far a signed checkpoint covers.
    chain_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    chain_head: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    sealed_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TaskRow(Base):
    """A human task (user or manual task) of a case; the id is SpiffWorkflow's task id."""

    __tablename__ = "tasks"
    __table_args__ = (
        # The worklist: a section's READY tasks in urgency order, read straight off the index.
        Index("ix_tasks_worklist", "section_code", "state", "sort_due", "created_at", "id"),
        Index("ix_tasks_case", "case_id", "state"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(100), default=None)
    section_code: Mapped[str | None] = mapped_column(String(32), default=None)
    form: Mapped[str | None] = mapped_column(String(200), default=None)
    state: Mapped[str] = mapped_column(String(16))  # ready | completed | cancelled
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The case's committed due date, copied so the worklist sorts on the task's own index; cases not yet
    # accepted (no due date) sort last. Kept current in the transaction that moves the case's due date.
    sort_due: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: NO_DUE_DATE)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    completed_by: Mapped[str | None] = mapped_column(String(64), default=None)


class EventRow(Base):
    """Append-only history: who did what, when, and which data changed.

    Each event is a link of its case's hash chain (``seq`` from 1, ``hash`` = SHA-256 of the previous link
    and this event's canonical content), and a case with history cannot be deleted: no cascade."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_case", "case_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    task_id: Mapped[str | None] = mapped_column(String(36), default=None)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(300), default="")
    section_code: Mapped[str | None] = mapped_column(String(32), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The case version the step that wrote this event produced, and (on one event per step) what the step
    # changed in the workflow state: the history and the per-step log are one table.
    version: Mapped[int | None] = mapped_column(Integer, default=None)
    state_delta: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), default=b"")


class CounterRow(Base):
    """Sequences for human-readable case numbers, one per prefix and year."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class CalendarOverrideRow(Base):
    """A day an administrator declared a holiday or a working day (new year's schedule, local change)."""

    __tablename__ = "calendar_overrides"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(String(200), default="")
    set_by: Mapped[str] = mapped_column(String(64), default="")
    set_at: Mapped[datetime] = mapped_column()


class ClockPauseRow(Base):
    """A special procedure (特别程序, 行政许可法 Art. 45) during which the legal clock stands still."""

    __tablename__ = "clock_pauses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # hearing | testing | inspection | expert_review | other
    reason: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    started_by: Mapped[str] = mapped_column(String(64), default="")
    ended_by: Mapped[str | None] = mapped_column(String(64), default=None)
    result: Mapped[str] = mapped_column(String(500), default="")


class ClockExtensionRow(Base):
    """An extension (延期, 行政许可法 Art. 42) approved by the head of the bureau."""

    __tablename__ = "clock_extensions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    working_days: Mapped[int] = mapped_column(Integer)
    approver: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime] = mapped_column()
    granted_by: Mapped[str] = mapped_column(String(64), default="")


class IncidentRow(Base):
    """A step that failed in the BPMN itself (a script, a condition, a budget), rolled back and kept for an
    administrator to retry (Camunda's incidents). ``data`` holds what the step needs to run again."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status", "status", "id"), Index("ix_incidents_case", "case_id", "status"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "task": completing a task; "timer": firing due timers
    task_id: Mapped[str | None] = mapped_column(String(36), default=None)
    actor: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, resolved
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(64), default=None)


class OutboxRow(Base):
    """A message to a supervising department, written in the transaction of the step it reports (the
    transactional outbox) and delivered afterwards by ``onewindow outbox run``.

    ``id`` is also the ``Idempotency-Key`` the receiver de-duplicates on; ``body`` is the exact JSON sent
    (and signed), the same bytes on every attempt. A dispatcher claims a message by setting ``lease_until``;
    one killed before it reports back loses nothing: the lease runs out and the message is claimed again.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_department", "department_code", "state", "acknowledged_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), default=None, index=True)
    case_no: Mapped[str] = mapped_column(String(32), default="")
    department_code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))  # approval_result | correction_outcome
    channel: Mapped[str] = mapped_column(String(8))  # push | inbox
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    leased_by: Mapped[str | None] = mapped_column(String(100), default=None)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), default=None)


class FeedbackRow(Base):
    """A supervising department's report of a flaw in a result it was sent (监管发现审批瑕疵), and the
    correction case it opened. ``idem_key`` is unique per department: the same report twice opens one case."""

    __tablename__ = "supervision_feedback"
    __table_args__ = (UniqueConstraint("department_code", "idem_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_code: Mapped[str] = mapped_column(String(32))
    idem_key: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    correction_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), default=None)
    flaw: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(8))  # inbox | api
    reported_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunnerRow(Base):
    """A runner process (``timers run``, ``outbox run`` …) as it last reported itself: /readyz tells whether
    each kind of runner the bureau needs was seen lately, on whichever server it runs."""

    __tablename__ = "runners"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # kind:host:pid
    kind: Mapped[str] = mapped_column(String(32), index=True)
    host: Mapped[str] = mapped_column(String(120))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)  # timers fired, messages delivered …
