"""Running cases: load a case's workflow under its lock, change it, and write it back in one transaction.

The parsed process of each deployed version is cached for the life of the process, and so is each case's
workflow object, keyed by the case's row version: a warm case is never deserialised, and a case changed
by another server (its version moved on) is rebuilt from the database. A workflow is taken out of the
cache while a transaction works on it and only put back after the commit, so a failed step can never
leave a half-changed workflow behind.

A step stores what it changed, not the case: the changed task dicts go into the history event written in
the same transaction (``events.state_delta``), and a snapshot of the whole state (``cases.state``) is
taken only when replaying the log since the last one would read more bytes than a snapshot holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from .._bpmn.definitions import MILESTONES, ProcessBundle, parse_process, with_default_form
from .._bpmn.scripting import OnewindowScriptEngine, ScriptBudgetExceeded, ScriptLimits, ScriptViolation
from .._bpmn.task_ids import TaskIds, issuing
from .._bpmn.timers import earliest_timer
from .._config.bureau import department_queue
from .._config.catalogue import GENERIC_FORM, Limit, Matter
from .._errors import NotFoundError, WorkflowError
from .._states import CASE_STATUS_LABELS, FINISHED_STATUSES, CaseStatus, EventKind
from .._states import TaskState as TaskRowState
from .._store.db import Database
from .._store.models import NO_DUE_DATE, CaseRow, DefinitionRow, TaskRow
from .._store.serialization import StateLog, rebuild
from .._time.clock import Clock
from .._time.deadlines import Deadlines
from .case_state import CaseState, insert_case, lock_case_state, read_log, update_case
from .history import HistoryService, NewEvent
from .outline import Outline, load_outline, outline_of
from .send_back import REACHED_KEY

__all__ = ["Operation", "OperatorHandler", "OutboxWriter", "Runtime", "Step"]

# 行政许可法 Art. 32 (limits in working days, Art. 82): accept, refuse or notify all missing materials at once
# within 5 days of receiving an application; a missed notice means it counts as accepted on receipt.
INTAKE_LIMIT = Limit(5, "working_days")


class OutboxWriter(Protocol):
    """What the runtime needs of the outbox (``OutboxService``): a decision's messages, in the step."""

    def write_results(
        self, session: Session, row: CaseState, matter: Matter, shares: Sequence[dict[str, Any]], at: datetime
    ) -> list[NewEvent]: ...

    def write_corrections(
        self, session: Session, row: CaseState, matter: Matter, corrections: Sequence[dict[str, Any]], at: datetime
    ) -> list[NewEvent]: ...


@dataclass
class Step:
    """What one transaction did to a case, gathered while the engine runs."""

    actor: str
    at: datetime
    completed: list[Any] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    # READY human tasks before the step: they are the case's open task rows, so no SELECT is needed.
    ready_before: dict[str, Any] = field(default_factory=dict)
    applicant: dict[str, Any] | None = None  # a new case's application, written with its row
    # ``share_result`` and ``report_correction`` calls of this step: their outbox messages are written with
    # the step (save)
    shares: list[dict[str, Any]] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)
    # Calls of operators other services registered (``Runtime.register_operator``), carried out in save
    operations: list[Operation] = field(default_factory=list)

    # Human tasks this step opened and those it closed (completed, or withdrawn by the process): what the
    # ``after_step`` reactions read (a task that stops the legal clock while it is open).
    opened: list[Any] = field(default_factory=list)
    closed: list[Any] = field(default_factory=list)
    # 退回上一环节 (send_back.py): the READY task sent back (closed by the actor, its own event says why) and
    # the earlier step reopened under its old id, with whom it goes back to.
    sent_back: set[str] = field(default_factory=set)
    reopened: dict[str, str | None] = field(default_factory=dict)
    # Where the tasks this step creates take their ids (a case started before numbered ids: None, random).
    ids: TaskIds | None = None


@dataclass(frozen=True)
class Operation:
    """One call of a registered service operator: its name, its evaluated parameters and the task data then."""

    name: str
    params: dict[str, Any]
    data: dict[str, Any]


class OperatorHandler(Protocol):
    """Carries out an operator's call in the step's transaction, once the workflow has run: it may write its
    own rows, change the case's clock columns on ``row`` and add events to ``step.events``; raising a
    domain error (``ValidationError``, ``ConflictError``) rolls the whole step back."""

    def __call__(self, session: Session, row: CaseState, bundle: ProcessBundle, step: Step, op: Operation) -> None: ...


# Bulk writes go through Core: one executemany per transaction, no ORM unit-of-work bookkeeping.
_TASKS = cast(Table, TaskRow.__table__)

_CLOSE_TASKS = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("tid"))
    .values(state=bindparam("state"), completed_at=bindparam("at"), completed_by=bindparam("by"))
)
_INSERT_TASKS = insert(_TASKS)
_RESORT_TASKS = (
    update(_TASKS)
    .where(_TASKS.c.case_id == bindparam("cid"), _TASKS.c.state == TaskRowState.READY)
    .values(sort_due=bindparam("due"))
)
_REOPEN_TASKS = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("tid"))
    .values(
        state=TaskRowState.READY,
        claimed_by=bindparam("owner"),
        created_at=bindparam("opened_at"),
        due_at=bindparam("due"),
        sort_due=bindparam("sort"),
        completed_at=None,
        completed_by=None,
    )
)

_current_step: ContextVar[Step | None] = ContextVar("onewindow_step", default=None)


class Runtime:
    """Loads, runs and stores workflows; shared by the case and task services."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        deadlines: Deadlines,
        *,
        departments: dict[str, str] | None = None,
        history: HistoryService | None = None,
        cache_size: int = 2048,
        script_limits: ScriptLimits | None = None,
        sections: Iterable[str] = (),
        outlines: dict[int, Outline] | None = None,
    ) -> None:
        self.db = db
        self.sections = frozenset(sections)  # the bureau's section codes (routing by ``lead_section``)
        self.clock = clock
        self.deadlines = deadlines
        self.history = history or HistoryService(db, clock)
        self.departments = dict(departments or {})  # code -> name, for the history's wording
        self.script_engine = OnewindowScriptEngine(
            services={"share_result": self._share_result, "report_correction": self._report_correction},
            clock=clock,
            calendar=lambda: self.deadlines.calendar,
            limits=script_limits,
        )
        # Writes a decision's messages to supervising departments in the step's transaction (the engine wires
        # its OutboxService here); without one, a shared result is only recorded in the history.
        self.outbox: OutboxWriter | None = None
        self._bundles: dict[int, ProcessBundle] = {}
        # English names and the list of steps per deployed version (shared with the repository's diagrams)
        self.outlines: dict[int, Outline] = {} if outlines is None else outlines
        self._cases: OrderedDict[int, tuple[int, Any]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        # A new snapshot once the log since the last one outweighs this many snapshots (0: at every step).
        self.snapshot_ratio = 4.0
        # Issues the documents a step's milestones call for, in the step's transaction (DocumentService).
        self.issue_documents: Callable[..., None] | None = None
        # Service operators other services register (the patterns' 多评合一, 网上中介, 会审), by name.
        self.operators: dict[str, OperatorHandler] = {}
        # Other services' reactions to a step, in its transaction before its history is written (a 回访整改's
        # reply stored on its rating): each gets the session, the case, its bundle and the step.
        self.after_step: list[Callable[[Session, CaseState, ProcessBundle, Step], None]] = []

    def register_operator(self, name: str, handler: OperatorHandler) -> None:
        """Make ``name`` a service operator the BPMN can call: the call is recorded while the workflow runs and
        ``handler`` carries it out in ``save``, in the step's transaction (so a refusal undoes the step)."""

        def record(params: Any, context: Any) -> Any:
            step = _current_step.get()
            if step is not None:
                step.operations.append(Operation(name, dict(params), dict(context)))
            return {"operator": name, "recorded": step is not None}

        self.operators[name] = handler
        self.script_engine.environment.services[name] = record

    # -- process definitions ------------------------------------------------------------------------
    def bundle(self, session: Session, definition_id: int) -> ProcessBundle:
        cached = self._bundles.get(definition_id)
        if cached is not None:
            return cached
        row = session.get(DefinitionRow, definition_id)
        if row is None:
            raise NotFoundError(
                f"process definition {definition_id} not found", kind="definition", key=str(definition_id)
            )
        bundle = build_bundle(row)
        self._bundles[definition_id] = bundle
        if definition_id not in self.outlines:  # from the row in hand: a worklist then needs no query for it
            self.outlines[definition_id] = outline_of(row)
        return bundle

    def outline(self, session: Session, definition_id: int) -> Outline:
        """English names and steps of a deployed version, without building its bundle."""
        return load_outline(session, definition_id, self.outlines)

    # -- the case cache ------------------------------------------------------------------------------
    def _take(self, case_id: int, version: int) -> Any | None:
        with self._lock:
            entry = self._cases.pop(case_id, None)
        if entry is not None and entry[0] == version:
            return entry[1]
        return None

    def _put(self, case_id: int, version: int, workflow: Any) -> None:
        with self._lock:
            self._cases[case_id] = (version, workflow)
            self._cases.move_to_end(case_id)
            while len(self._cases) > self._cache_size:
                self._cases.popitem(last=False)

    def completed_nodes(self, session: Session, row: CaseRow | CaseState) -> frozenset[str]:
        """BPMN ids of every flow node the case has passed (scripts and gateways too), for the diagram."""
        return self.node_states(session, row)[0]

    def node_states(self, session: Session, row: CaseRow | CaseState) -> tuple[frozenset[str], frozenset[str]]:
        """BPMN ids of the flow nodes the case has passed, and of those it is at (READY tasks, events and
        receive tasks WAITING for their timer or message, call activities STARTED), for the diagram.

        Reads the warm workflow when the cache holds this version, without taking it out; otherwise
        rebuilds it once from the database and leaves the cache alone (a read must not disturb writers).
        """
        assert row.id is not None
        with self._lock:
            entry = self._cases.get(row.id)
        bundle = self.bundle(session, row.definition_id)
        warm = entry is not None and entry[0] == row.version
        workflow = entry[1] if entry is not None and warm else self._rebuild(session, row.id, bundle)
        done = frozenset(
            bpmn_id
            for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if (bpmn_id := t.task_spec.bpmn_id) and bpmn_id in bundle.nodes
        )
        at = frozenset(
            bpmn_id
            for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
            if (bpmn_id := t.task_spec.bpmn_id)
            and bpmn_id in bundle.nodes
            and "Gateway" not in bundle.nodes[bpmn_id].tag
        )  # a joining gateway waits for the other branches: the token is not there yet
        return done, at

    def _rebuild(self, session: Session, case_id: int, bundle: ProcessBundle) -> Any:
        snapshot, changes = read_log(session, case_id)
        workflow, log = rebuild(
            snapshot,
            changes,
            spec=bundle.spec,
            subprocess_specs=bundle.subprocess_specs,
            script_engine=self.script_engine,
            zdict=bundle.state_dictionary,
        )
        workflow.__dict__["_ow_log"] = log
        return workflow

    def forget(self, case_id: int) -> None:
        with self._lock:
            self._cases.pop(case_id, None)

    # -- running ------------------------------------------------------------------------------------
    def new_workflow(self, bundle: ProcessBundle, data: dict[str, Any]) -> Any:
        workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=self.script_engine)
        step = _current_step.get()
        if step is not None and step.ids is not None:  # its first tasks were numbered by the step's ids
            step.ids.adopt(workflow)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        return workflow

    def lock_case(self, session: Session, case_id: int) -> CaseRow:
        """The case row as an ORM object, locked for this transaction (the legal clock's changes): FOR NO KEY
        UPDATE, as every step locks it; SQLite holds the write lock already."""
        row = session.execute(
            select(CaseRow)
            .where(CaseRow.id == case_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).scalar_one()
        return row

    def lock_state(self, session: Session, case_id: int) -> CaseState:
        """The case row as the runtime steps it, locked for this transaction."""
        return lock_case_state(session, case_id)

    def load(self, session: Session, case: CaseRow | CaseState) -> Any:
        assert case.id is not None
        workflow = self._take(case.id, case.version)
        if workflow is None:
            workflow = self._rebuild(session, case.id, self.bundle(session, case.definition_id))
        return workflow

    @contextmanager
    def stepping(self, actor: str, workflow: Any = None) -> Iterator[Step]:
        """Collect what happens to ``workflow`` (None for a new case) until ``save``."""
        step = Step(actor=actor, at=self.clock.now())
        if workflow is not None:
            step.ready_before = {
                str(t.id): t for t in _live_tasks(workflow) if t.state == TaskState.READY and t.task_spec.manual
            }
            step.ids = TaskIds.of(workflow)
        else:
            step.ids = TaskIds.fresh()  # ``new_workflow`` hands the counter to the case's workflow
        token = _current_step.set(step)
        try:
            with issuing(step.ids):
                yield step
        finally:
            _current_step.reset(token)

    def run_engine(self, workflow: Any, step: Step) -> None:
        try:
            workflow.do_engine_steps(did_complete_task=step.completed.append)
        except SpiffWorkflowException as err:
            raise WorkflowError(_one_line(err), element=_element(err)) from None

    def run_user_task(self, workflow: Any, task: Any, data: dict[str, Any], step: Step) -> None:
        task.data.update(data)
        try:
            task.run()
        except SpiffWorkflowException as err:
            raise WorkflowError(_one_line(err), element=_element(err)) from None
        step.completed.append(task)
        self.run_engine(workflow, step)

    def save(self, session: Session, row: CaseState, workflow: Any, step: Step) -> None:
        """Write the case's changed columns, task rows, milestones, events and state; bump the version.

        A new case is inserted here, once its first state is known, with that state as its snapshot. Later
        steps put what they changed into the last history event they write; task rows and events go in
        with one executemany each.
        """
        bundle = self.bundle(session, row.definition_id)
        due_before = row.committed_due_at
        ready: dict[str, Any] = {}
        waiting: list[Any] = []
        for task in _live_tasks(workflow):
            if task.state == TaskState.WAITING:
                waiting.append(task)
            elif task.state == TaskState.READY and task.task_spec.manual:
                ready[str(task.id)] = task
        repeated = self._repeated_milestones(workflow, bundle, step)
        for task in step.completed:
            milestone = _milestone(bundle, task)
            if milestone and id(task) not in repeated:
                self._reach_milestone(row, bundle, milestone, task, step)
        self._update_status(row, workflow, bundle, step, ready.values())
        row.next_timer_at = earliest_timer(waiting)
        row.version = (row.version or 0) + 1
        log: StateLog | None = workflow.__dict__.get("_ow_log")
        new = row.id is None
        snapshot: bytes | None = None
        if new:
            log = StateLog(None)
            state = log.snapshot(workflow, bundle.state_dictionary)
            insert_case(session, row, applicant=step.applicant or {}, state=state)
            row.state_version = row.version
            delta = None
        else:
            if log is None:  # not rebuilt by this runtime (cannot happen on the service paths)
                raise WorkflowError(f"case {row.case_no}: workflow without its state log")
            delta = log.step(workflow)
            if delta is not None and (not step.events or log.wants_snapshot(self.snapshot_ratio)):
                snapshot, delta = log.snapshot(workflow, bundle.state_dictionary), None
        workflow.__dict__["_ow_log"] = log
        assert row.id is not None  # inserted above when new
        if row.committed_due_at != due_before and step.ready_before:
            self.resort_tasks(session, row)
        self._sync_tasks(session, row, ready, bundle, step)
        if self.issue_documents is not None:
            done = [(m, t) for t in step.completed if (m := _milestone(bundle, t)) and id(t) not in repeated]
            opened = [(m, t) for i, t in ready.items() if i not in step.ready_before and (m := _milestone(bundle, t))]
            if done or opened:
                self.issue_documents(session, row, bundle, step, done=done, opened=opened)
        if step.shares and self.outbox is not None:
            step.events.extend(self.outbox.write_results(session, row, bundle.matter, step.shares, step.at))
        if step.corrections and self.outbox is not None:
            step.events.extend(self.outbox.write_corrections(session, row, bundle.matter, step.corrections, step.at))
        for op in step.operations:
            self.operators[op.name](session, row, bundle, step, op)
        for react in self.after_step:
            react(session, row, bundle, step)
        # A new case's row is in already; a running case's row is written last, with its chain's new head.
        self.history.record(
            session,
            row.id,
            step.events,
            actor=step.actor,
            at=step.at,
            version=row.version,
            state_delta=delta,
            case=row,
            defer_head=not new,
        )
        if not new:
            update_case(session, row, state=snapshot, chain=bool(step.events))
        if not workflow.completed:  # a finished case is read from its rows, never run again
            session.info.setdefault("after_commit", []).append((row.id, row.version, workflow))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction whose changed workflows enter the cache only once it has committed."""
        with self.db.writing() as session:
            try:
                yield session
            except BaseException:
                self.discard(session)
                raise
        self.commit_to_cache(session)

    def commit_to_cache(self, session: Session) -> None:
        for case_id, version, workflow in session.info.pop("after_commit", []):
            self._put(case_id, version, workflow)

    def discard(self, session: Session) -> None:
        for case_id, _version, _workflow in session.info.pop("after_commit", []):
            self.forget(case_id)

    @staticmethod
    def _repeated_milestones(workflow: Any, bundle: ProcessBundle, step: Step) -> set[int]:
        """Completed tasks of this step reaching a milestone the case reached before a send-back dropped its
        path (受理 again after a review went back to the window): recorded once, its document issued once."""
        reached = workflow.data.get(REACHED_KEY)
        if not reached:
            return set()
        left = list(reached)
        repeated: set[int] = set()
        for task in step.completed:
            milestone = _milestone(bundle, task)
            if milestone in left:
                left.remove(milestone)
                repeated.add(id(task))
        if left:
            workflow.data[REACHED_KEY] = left
        else:
            del workflow.data[REACHED_KEY]
        return repeated

    def _sync_tasks(
        self, session: Session, row: CaseState, ready: dict[str, Any], bundle: ProcessBundle, step: Step
    ) -> None:
        completed_ids = {str(t.id) for t in step.completed}
        closed: list[dict[str, Any]] = []
        for task_id, task in step.ready_before.items():
            if task_id in ready:
                continue
            step.closed.append(task)
            if task_id in step.sent_back:  # 退回上一环节: the send-back's own event says who and why
                closed.append({"tid": task_id, "state": TaskRowState.CANCELLED, "at": step.at, "by": step.actor})
            elif task_id in completed_ids:
                closed.append({"tid": task_id, "state": TaskRowState.COMPLETED, "at": step.at, "by": step.actor})
            else:  # withdrawn by the process itself (boundary event, cancelled branch)
                closed.append({"tid": task_id, "state": TaskRowState.CANCELLED, "at": step.at, "by": None})
                name = _task_name(bundle, task)
                step.events.append(NewEvent(EventKind.TASK_CANCELLED, name, task_id=task_id))
        if closed:
            session.connection().execute(_CLOSE_TASKS, closed)
        new_rows = []
        reopened = []
        for task_id, task in ready.items():
            if task_id in step.ready_before:
                continue
            if task_id in step.reopened:  # its row exists (completed before): opened again as it was
                step.opened.append(task)
                meta = bundle.node(task.task_spec.bpmn_id or "")
                reopened.append(
                    {
                        "tid": task_id,
                        "owner": step.reopened[task_id],
                        "opened_at": step.at,
                        "due": self._step_due(row, bundle, task, step.at, meta.step_limit if meta else None),
                        "sort": row.committed_due_at or NO_DUE_DATE,
                    }
                )
                continue
            meta = bundle.node(task.task_spec.bpmn_id or "")
            lane = task.task_spec.lane
            section = bundle.lane_sections.get(lane or "")
            if not lane and self.sections:
                # A task outside every lane goes to the lead section; a follow-up case names its origin's in the
                # process variable ``lead_section`` (a correction is worked where the case was decided).
                named = task.data.get("lead_section")
                if isinstance(named, str) and named in self.sections:
                    section = named
            if meta is not None and meta.assign_to == "supervising_department":
                # 现场踏勘's department step: the supervising department's liaison (role supervisor) gets it.
                section = department_queue(bundle.matter.supervising_department)
            step.opened.append(task)
            new_rows.append(
                {
                    "id": task_id,
                    "case_id": row.id,
                    "bpmn_id": task.task_spec.bpmn_id or task.task_spec.name,
                    "name": _task_name(bundle, task),
                    "lane": lane,
                    "section_code": section,
                    "form": meta.form if meta else None,
                    "state": TaskRowState.READY,
                    "claimed_by": None,
                    "created_at": step.at,
                    "due_at": self._step_due(row, bundle, task, step.at, meta.step_limit if meta else None),
                    "sort_due": row.committed_due_at or NO_DUE_DATE,
                    "completed_at": None,
                    "completed_by": None,
                }
            )
        if new_rows:
            session.connection().execute(_INSERT_TASKS, new_rows)
        if reopened:
            session.execute(_REOPEN_TASKS, reopened)

    def _step_due(
        self, row: CaseState, bundle: ProcessBundle, task: Any, at: datetime, step_limit: str | None
    ) -> datetime | None:
        """A step's due date: its own ``stepLimit``; before acceptance the window's check is also due within the
        5 working days in which an application must be accepted, refused or given its 一次性告知 (行政许可法
        Art. 32; the bureau holds every matter's intake to it). The applicant's own 补正 step is not the
        bureau's to time (its deadline is the matter's ``supplement_limit``)."""
        due = self.deadlines.step_due(at, step_limit)
        if _milestone(bundle, task) == "supplement_requested" and (limit := bundle.matter.supplement_limit):
            return self.deadlines.due(at, limit)  # the applicant's deadline; past it the case is ended (终止)
        accepts = any(n.milestone == "accepted" for n in bundle.nodes.values())  # a process without one: no intake
        if accepts and row.accepted_at is None and _milestone(bundle, task) != "supplement_requested":
            intake_due = self.deadlines.due(at, INTAKE_LIMIT)
            due = intake_due if due is None else min(due, intake_due)
        return due

    def resort_tasks(self, session: Session, row: CaseRow | CaseState) -> None:
        """Copy a changed committed due date onto the case's open tasks (the worklist sorts on it)."""
        session.connection().execute(_RESORT_TASKS, {"cid": row.id, "due": row.committed_due_at or NO_DUE_DATE})

    def _reach_milestone(self, row: CaseState, bundle: ProcessBundle, milestone: str, task: Any, step: Step) -> None:
        label = MILESTONES.get(milestone, milestone)
        if milestone == "accepted" and row.accepted_at is None:
            # The legal clock starts at acceptance (行政许可法 Art. 32/42); 补正 time before it does not count.
            row.accepted_at = step.at
            row.committed_due_at = self.deadlines.due(step.at, bundle.matter.committed_limit)
            row.legal_due_at = self.deadlines.due(step.at, bundle.matter.legal_limit)
        elif milestone in ("approved", "rejected", "refused_acceptance", "terminated"):
            row.outcome = milestone
        step.events.append(NewEvent(EventKind.MILESTONE, label, task_id=str(task.id), data={"milestone": milestone}))

    def _update_status(
        self, row: CaseState, workflow: Any, bundle: ProcessBundle, step: Step, ready: Iterable[Any]
    ) -> None:
        if row.status in FINISHED_STATUSES:
            return
        status = row.status
        waiting_supplement = any(_milestone(bundle, t) == "supplement_requested" for t in ready)
        if workflow.completed:
            status = {
                "refused_acceptance": CaseStatus.NOT_ACCEPTED,
                "rejected": CaseStatus.REJECTED,
                # 容缺受理 whose material never came: stopped before the decision, 办结(不通过) without one
                "terminated": CaseStatus.REJECTED,
                "withdrawn": CaseStatus.WITHDRAWN,  # 撤回 (engine/_services/case_ends.py)
                "supplement_lapsed": CaseStatus.TERMINATED,  # 终止: the 补正 deadline passed
            }.get(row.outcome or "", CaseStatus.APPROVED)
            row.finished_at = step.at
        elif waiting_supplement:
            status = CaseStatus.SUPPLEMENT
        elif row.accepted_at is not None:
            status = CaseStatus.ACCEPTED
        else:
            status = CaseStatus.RECEIVED
        if status != row.status:
            previous, row.status = row.status, status
            step.events.append(
                NewEvent(
                    EventKind.STATUS_CHANGED,
                    f"{CASE_STATUS_LABELS.get(previous, previous)} → {CASE_STATUS_LABELS[status]}",
                    data={"from": previous, "to": status},
                )
            )

    def _share_result(self, params: Any, context: Any) -> Any:
        """Service operator ``share_result``: 审管信息共享 — record the result for the supervising department."""
        step = _current_step.get()
        matter = context.get("matter", {})
        receipt = {
            "department": matter.get("supervising_department"),
            "result": matter.get("result_name"),
            "outcome": params.get("outcome"),
            "case_no": context.get("case_no"),
        }
        if step is not None:
            if self.outbox is not None:
                step.shares.append({"outcome": receipt["outcome"], "data": dict(context)})
            else:
                department = self.departments.get(str(receipt["department"]), str(receipt["department"]))
                step.events.append(NewEvent(EventKind.RESULT_SHARED, f"推送审管信息: {department}", data=receipt))
            receipt["shared_at"] = step.at.isoformat()
        return receipt

    def _report_correction(self, params: Any, context: Any) -> Any:
        """Service operator ``report_correction``: the outcome of a correction case goes back, through the
        outbox, to the supervising department whose feedback opened it (``applicant.department``)."""
        step = _current_step.get()
        applicant = context.get("applicant", {})
        receipt = {"department": applicant.get("department"), "case_no": context.get("case_no")}
        if step is not None and self.outbox is not None:
            step.corrections.append({"data": dict(context)})
            receipt["reported_at"] = step.at.isoformat()
        return receipt


def _live_tasks(workflow: Any) -> list[Any]:
    """READY and WAITING tasks of the workflow and its subprocesses, in the order they were created.

    ``get_tasks`` walks the tree with an iterator object per call; a scan of the task maps is several times
    cheaper, and nothing here depends on the tree order.
    """
    live = TaskState.READY | TaskState.WAITING
    found = [t for t in workflow.tasks.values() if t._state & live]
    for sub in workflow.subprocesses.values():
        found.extend(t for t in sub.tasks.values() if t._state & live)
    return found


def _milestone(bundle: ProcessBundle, task: Any) -> str | None:
    meta = bundle.node(task.task_spec.bpmn_id or "")
    return meta.milestone if meta else None


def _task_name(bundle: ProcessBundle, task: Any) -> str:
    meta = bundle.node(task.task_spec.bpmn_id or "")
    return meta.name if meta else str(task.task_spec.bpmn_name or task.task_spec.name)


def _element(err: Exception) -> str:
    task = getattr(err, "task", None)
    return str(task.task_spec.bpmn_id or "") if task is not None else ""


def _one_line(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    # SpiffWorkflow wraps what went wrong in the script or condition; say it, in one line.
    inner = getattr(err, "exception", None)
    if isinstance(inner, ScriptBudgetExceeded | ScriptViolation):
        text = f"script stopped: {inner}"
    elif inner is not None and str(inner) and str(inner) not in text:
        text = f"{text}: {type(inner).__name__}: {str(inner).strip().splitlines()[0]}"
    task = getattr(err, "task", None)
    where = ""
    if task is not None:
        spec = task.task_spec
        where = f" in '{spec.bpmn_name or spec.bpmn_id}'" + (f" ({spec.bpmn_id})" if spec.bpmn_name else "")
    return f"process error{where}: {text}"


def build_bundle(row: DefinitionRow) -> ProcessBundle:
    called = {name: text.encode("utf-8") for name, text in (row.called_bpmn or {}).items()}
    parsed = parse_process(row.bpmn_xml, filename=row.bpmn_file, process_id=row.process_id, called=called)
    return ProcessBundle(
        definition_id=row.id,
        process_id=row.process_id,
        spec=parsed.spec,
        subprocess_specs=parsed.subprocess_specs,
        matter=Matter.from_dict(row.catalogue),
        lane_sections=dict(row.lane_sections),
        forms=dict(row.forms),
        nodes=with_default_form(parsed.nodes, GENERIC_FORM) if GENERIC_FORM in row.forms else parsed.nodes,
        state_dictionary=row.state_dictionary,
    )


def task_uuid(task_id: str) -> UUID:
    try:
        return UUID(task_id)
    except ValueError:
        raise NotFoundError.unknown("task", task_id) from None
