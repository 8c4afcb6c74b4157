"""Move running cases of a matter from one deployed version to another, as Camunda's process-instance migration does.

A plan is validated before anything moves: every waiting task of a case (READY human tasks, WAITING timers,
joins and events) must map to an element of the same kind in the same scope of the new version — by its
BPMN id, or by ``--map OLD=NEW`` — and no two waiting tasks may map to one element. Steps the case has
already passed must exist in the new version too (or be mapped), since the case's path is kept. Each case
moves in its own transaction, all or nothing: it is locked, migrated with SpiffWorkflow's spec alignment
(``SpiffWorkflow.bpmn.util.diff``), restored once from its new state as a check, saved through the
runtime, and a ``migrated`` event records the versions and the moves in its history. A dry run plans and
validates every case but writes nothing.

Waiting tasks keep their ids (links to them stay valid), their data, and a timer keeps the instant it was
going to fire at. The case's committed and legal due dates are kept: they were fixed at acceptance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .._errors import NotFoundError, OnewindowError
from .._states import FINISHED_STATUSES, EventKind
from .._states import TaskState as RowState
from .._store.db import Database
from .._store.models import CaseRow, DefinitionRow, TaskRow
from .._store.serialization import _REGISTRY, StateLog, dump_state, load_state
from .._time.clock import Clock
from .history import NewEvent
from .runtime import Runtime

__all__ = ["CaseMigration", "MigrationReport", "MigrationService"]

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_DONE = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR
_FORCE_SNAPSHOT = 2**62  # bytes "since the snapshot": more than any ratio allows, so the save snapshots


@dataclass
class CaseMigration:
    case_no: str
    moves: list[tuple[str, str]] = field(default_factory=list)  # (old BPMN id, new BPMN id) of waiting tasks
    problems: list[str] = field(default_factory=list)
    migrated: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_no": self.case_no,
            "ok": self.ok,
            "migrated": self.migrated,
            "moves": self.moves,
            "problems": self.problems,
        }


@dataclass
class MigrationReport:
    matter: str
    from_version: int
    to_version: int
    dry_run: bool
    cases: list[CaseMigration] = field(default_factory=list)

    @property
    def refused(self) -> list[CaseMigration]:
        return [c for c in self.cases if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "matter": self.matter,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "dry_run": self.dry_run,
            "cases": [c.to_dict() for c in self.cases],
        }


class _Refused(OnewindowError):
    """Internal: the case cannot move; its transaction rolls back."""


class MigrationService:
    def __init__(self, db: Database, clock: Clock, runtime: Runtime) -> None:
        self.db = db
        self.clock = clock
        self.runtime = runtime

    def migrate(
        self,
        matter_key: str,
        *,
        from_version: int,
        to_version: int,
        mapping: dict[str, str] | None = None,
        case_nos: list[str] | None = None,
        dry_run: bool = False,
        actor: str = "",
    ) -> MigrationReport:
        """Plan, validate and (unless ``dry_run``) move the running cases; returns what moved and what cannot."""
        mapping = dict(mapping or {})
        with self.db.reading() as session:
            source = self._definition(session, matter_key, from_version)
            target = self._definition(session, matter_key, to_version)
            if source.id == target.id:
                raise OnewindowError(f"--from and --to are both version {from_version}: nothing to migrate")
            target_nodes = self.runtime.bundle(session, target.id).nodes
            unknown = sorted(new for new in mapping.values() if new not in target_nodes)
            if unknown:
                raise NotFoundError(
                    f"--map names {', '.join(unknown)}, not in {matter_key} v{to_version}; "
                    f"its elements: {', '.join(sorted(target_nodes))}"
                )
            query = select(CaseRow.id, CaseRow.case_no).where(
                CaseRow.definition_id == source.id, CaseRow.status.not_in(FINISHED_STATUSES)
            )
            if case_nos is not None:
                query = query.where(CaseRow.case_no.in_(case_nos))
            cases = list(session.execute(query.order_by(CaseRow.id)).all())
        if case_nos is not None:
            found = {no for _id, no in cases}
            missing = [no for no in case_nos if no not in found]
            if missing:
                raise NotFoundError(
                    f"case(s) {', '.join(missing)} are not running cases of {matter_key} v{from_version}"
                )
        report = MigrationReport(matter_key, from_version, to_version, dry_run)
        for case_id, case_no in cases:
            outcome = CaseMigration(case_no)
            report.cases.append(outcome)
            try:
                self._migrate_case(case_id, target.id, to_version, mapping, outcome, dry_run=dry_run, actor=actor)
            except _Refused:
                outcome.migrated = False
        return report

    def _definition(self, session: Session, matter_key: str, version: int) -> DefinitionRow:
        row = session.scalars(
            select(DefinitionRow).where(DefinitionRow.matter_key == matter_key, DefinitionRow.version == version)
        ).first()
        if row is None:
            versions = sorted(
                session.scalars(select(DefinitionRow.version).where(DefinitionRow.matter_key == matter_key))
            )
            known = ", ".join(f"v{v}" for v in versions) or "none deployed"
            raise NotFoundError(f"matter '{matter_key}' has no version {version}; versions: {known}")
        return row

    def _migrate_case(
        self,
        case_id: int,
        target_id: int,
        to_version: int,
        mapping: dict[str, str],
        outcome: CaseMigration,
        *,
        dry_run: bool,
        actor: str,
    ) -> None:
        with self.runtime.transaction() as session:
            row = self.runtime.lock_case(session, case_id)
            from_id = row.definition_id
            workflow = self.runtime.load(session, row)
            target = self.runtime.bundle(session, target_id)
            # Plan on the live workflow: nothing changes unless every check passes.
            diffs = self._plan(workflow, target.spec, target.subprocess_specs, mapping, outcome)
            if outcome.problems:
                raise _Refused(outcome.case_no)
            if dry_run:
                # Reading only: the workflow goes back to the cache unchanged at the end of the transaction.
                session.info.setdefault("after_commit", []).append((row.id, row.version, workflow))
                return
            with self.runtime.stepping(actor, workflow) as step:
                for wf, spec, diff in diffs:
                    _apply(wf, spec, diff)
                # The converted form of finished tasks is cached per workflow; their specs just changed.
                workflow.__dict__.pop("_ow_task_dicts", None)
                try:
                    migrated = load_state(
                        dump_state(workflow),
                        spec=target.spec,
                        subprocess_specs=target.subprocess_specs,
                        script_engine=self.runtime.script_engine,
                    )
                except Exception as err:  # a state the new version cannot restore must not be written
                    outcome.problems.append(f"the migrated state does not restore on v{to_version}: {err}")
                    raise _Refused(outcome.case_no) from None
                # The case now runs on the new version: the ORM row carries the change, flushed before the
                # runtime reads the row again with Core and writes the step.
                row.definition_id = target_id
                session.flush()
                state = self.runtime.lock_state(session, case_id)
                # The stored log was written against the old version's spec: the save must write a whole
                # snapshot of the migrated state, which later steps are stored relative to.
                migrated.__dict__["_ow_log"] = StateLog({}, since_snapshot=_FORCE_SNAPSHOT)
                step.events.append(
                    NewEvent(
                        EventKind.MIGRATED,
                        f"迁移到第{to_version}版",
                        data={
                            "from_definition": from_id,
                            "to_definition": target_id,
                            "to_version": to_version,
                            "moves": [list(m) for m in outcome.moves],
                        },
                    )
                )
                self.runtime.save(session, state, migrated, step)
                _retarget_open_tasks(session, case_id, target, migrated)
            outcome.migrated = True

    def _plan(
        self,
        workflow: Any,
        spec: Any,
        subprocess_specs: dict[str, Any],
        mapping: dict[str, str],
        outcome: CaseMigration,
    ) -> list[tuple[Any, Any, dict[Any, Any]]]:
        """Align the case's workflow (and its subprocesses) with the new specs; record every problem."""
        plans = [(workflow, spec)]
        for sub in workflow.subprocesses.values():
            new = subprocess_specs.get(sub.spec.name)
            if new is None:
                outcome.problems.append(f"the called process '{sub.spec.name}' is not part of the new version")
            else:
                plans.append((sub, new))
        diffs: list[tuple[Any, Any, dict[Any, Any]]] = []
        claimed: dict[str, str] = {}
        for wf, new_spec in plans:
            alignment = dict(SpecDiff(_REGISTRY, wf.spec, new_spec).alignment)
            for old_spec in list(wf.spec.task_specs.values()):
                old_id = getattr(old_spec, "bpmn_id", None)
                if old_id in mapping:
                    alignment[old_spec] = _by_bpmn_id(new_spec, mapping[old_id])
            # SpiffWorkflow's own specs around an element ("Task_X.BoundaryEventSplit") follow their element.
            for old_spec in list(wf.spec.task_specs.values()):
                owner, dot, suffix = old_spec.name.rpartition(".")
                owner_new = alignment.get(wf.spec.task_specs.get(owner)) if dot else None
                if getattr(old_spec, "bpmn_id", None) is None and owner_new is not None:
                    alignment[old_spec] = new_spec.task_specs.get(f"{owner_new.name}.{suffix}", alignment.get(old_spec))
            for task in wf.get_tasks(skip_subprocesses=True):
                old_spec = task.task_spec
                new = alignment.get(old_spec)
                label = old_spec.bpmn_id or old_spec.name
                if task.state & _ACTIVE and old_spec.bpmn_id:
                    self._check_waiting(task, new, new_spec, claimed, outcome)
                elif task.state & _DONE and new is None:
                    hint = f"; map it with --map {label}=NEW_ID" if old_spec.bpmn_id else ""
                    outcome.problems.append(
                        f"'{label}' ({old_spec.bpmn_name or label}), already passed, is not in the new version{hint}"
                    )
            diffs.append((wf, new_spec, alignment))
        return diffs

    def _check_waiting(
        self, task: Any, new: Any, new_spec: Any, claimed: dict[str, str], outcome: CaseMigration
    ) -> None:
        old = task.task_spec
        if new is None:
            outcome.problems.append(
                f"waiting task '{old.bpmn_id}' ({old.bpmn_name or old.bpmn_id}) has no counterpart in the new "
                f"version; map it with --map {old.bpmn_id}=NEW_ID"
            )
            return
        if type(new) is not type(old) or _event_kind(new) != _event_kind(old):
            outcome.problems.append(
                f"waiting task '{old.bpmn_id}' is a {_kind(old)} but '{new.bpmn_id}' is a {_kind(new)}: "
                "a waiting task moves only to an element of the same kind"
            )
            return
        if new.name not in new_spec.task_specs or new_spec.task_specs[new.name] is not new:
            outcome.problems.append(f"'{new.bpmn_id}' is not in the same process as '{old.bpmn_id}'")
            return
        key = f"{new_spec.name}:{new.bpmn_id}"
        if key in claimed and claimed[key] != old.bpmn_id:
            outcome.problems.append(f"waiting tasks '{claimed[key]}' and '{old.bpmn_id}' both map to '{new.bpmn_id}'")
            return
        claimed[key] = old.bpmn_id
        outcome.moves.append((old.bpmn_id, new.bpmn_id))


def _by_bpmn_id(spec: Any, bpmn_id: str) -> Any:
    return next((ts for ts in spec.task_specs.values() if getattr(ts, "bpmn_id", None) == bpmn_id), None)


def _kind(spec: Any) -> str:
    event = _event_kind(spec)
    return type(spec).__name__ + (f" ({event})" if event else "")


def _event_kind(spec: Any) -> str:
    definition = getattr(spec, "event_definition", None)
    return type(definition).__name__ if definition is not None else ""


def _apply(workflow: Any, spec: Any, alignment: dict[Any, Any]) -> None:
    """Point every task at its new spec, then re-predict the branches of the waiting ones.

    As ``SpiffWorkflow.bpmn.util.diff.migrate_workflow``, but a waiting task keeps its data and internal
    data (a timer keeps the instant it fires at; SpiffWorkflow's reset would start it again).
    """
    workflow.spec = spec
    for task in workflow.tasks.values():
        new = alignment.get(task.task_spec)
        if new is not None:
            task.task_spec = new
    for task in list(workflow.get_tasks(state=_ACTIVE, skip_subprocesses=True)):
        if task.id not in workflow.tasks:
            continue  # removed with an earlier task's branch
        data, internal = task.data, task.internal_data
        task.reset_branch(data)
        task.internal_data = internal
        task.data = data
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = None


def _retarget_open_tasks(session: Session, case_id: int, bundle: Any, workflow: Any) -> None:
    """Open task rows keep their id; they now stand for the new version's element (name, lane, section, form)."""
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        bpmn_id = task.task_spec.bpmn_id or task.task_spec.name
        meta = bundle.node(bpmn_id)
        session.execute(
            update(TaskRow)
            .where(TaskRow.id == str(task.id), TaskRow.case_id == case_id, TaskRow.state == RowState.READY)
            .values(
                bpmn_id=bpmn_id,
                name=meta.name if meta else str(task.task_spec.bpmn_name or bpmn_id),
                lane=task.task_spec.lane,
                section_code=bundle.lane_sections.get(task.task_spec.lane or ""),
                form=meta.form if meta else None,
            )
        )
