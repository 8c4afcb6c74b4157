"""Workflow state without the process spec, stored as a snapshot plus the changes of each later step.

SpiffWorkflow's stock serializer embeds the whole parsed spec in every instance (more than half the bytes
of a small process) and rebuilds it on every load. A case here stores only its own task tree and data;
the spec comes from the in-process cache of the deployed version it runs on.

A step does not store the whole tree again: ``StateLog.step`` compares the tree's dict form with the one
stored before and keeps what changed (new and changed task dicts, removed task ids, changed workflow
fields; subprocesses the same way, recursively). ``rebuild`` applies the changes recorded since the
snapshot, in order, to the snapshot's dict and restores the workflow from the result, as Zeebe replays
the events of its log onto its last snapshot: the state changes are replayed, not the commands, so a
rebuild does not depend on the clock, the calendar or the scripts giving the same answer twice.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

__all__ = [
    "STATE_FORMAT",
    "StateLog",
    "apply_changes",
    "decode_changes",
    "dump_state",
    "fold_log",
    "load_state",
    "rebuild",
    "snapshot_text",
    "state_dictionary",
]

STATE_FORMAT = "ow1"  # bump when the stored layout changes; Spiff's own version rides inside


_FINAL = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR


class _CachingTaskConverter(TaskConverter):  # type: ignore[misc]
    """A finished task never changes again, so its dict is built once and reused at every later save; an
    unfinished task without data of its own is reused while nothing its dict depends on has moved.

    Most of a case's tree is finished tasks; converting them again at each step was most of the cost of
    storing a case. The cache lives on the workflow object (so it dies with it) and is keyed by task id
    and the instant of the task's last state change.
    """

    def to_dict(self, task: Any) -> dict[str, Any]:
        if not task.state & _FINAL:
            return self._live(task)
        cache: dict[Any, tuple[float, list[Any], dict[str, Any]]] = task.workflow.__dict__.setdefault(
            "_ow_task_dicts", {}
        )
        hit = cache.get(task.id)
        # A finished task's children may still be dropped (a cancelled branch), so they are part of the key.
        if hit is not None and hit[0] == task.last_state_change and hit[1] == task._children:
            return hit[2]
        dct: dict[str, Any] = super().to_dict(task)
        cache[task.id] = (task.last_state_change, list(task._children), dct)
        return dct

    def _live(self, task: Any) -> dict[str, Any]:
        """A task not finished yet. Most of them are predicted branches (MAYBE, LIKELY, FUTURE) with no data
        of their own: their dict is a function of state, last change, children, the triggered flag and
        the names of the parent's data keys (Spiff stores a child's data as a delta against its parent's,
        and an empty child "deletes" every key of the parent). Those are reused while that key holds; a task
        holding data of its own is converted afresh."""
        if task.data or task.internal_data:
            result: dict[str, Any] = super().to_dict(task)
            return result
        parent = task.parent
        key = (
            task._state,
            task.last_state_change,
            tuple(task._children),
            task.triggered,
            tuple(parent.data) if parent is not None else None,
        )
        cache: dict[Any, tuple[Any, dict[str, Any]]] = task.workflow.__dict__.setdefault("_ow_live_dicts", {})
        hit = cache.get(task.id)
        if hit is not None and hit[0] == key:
            return hit[1]
        dct: dict[str, Any] = super().to_dict(task)
        cache[task.id] = (key, dct)
        return dct


class _DirectTaskMapping:
    """``mapping_to_dict`` that hands each task straight to the task converter.

    Spiff's own sends every task of the tree through the registry (type lookup, data cleaning, a partial
    adding the type name to the dict) and formats its UUID anew, at every save; the task converter's cached
    dicts already carry their type name, so a finished task costs one lookup here."""

    registry: Any

    def mapping_to_dict(self, mapping: Any, **kwargs: Any) -> dict[str, Any]:
        if kwargs:
            result: dict[str, Any] = super().mapping_to_dict(mapping, **kwargs)  # type: ignore[misc]
            return result
        task_to_dict = _task_converter(self.registry)
        convert = self.registry.convert
        out: dict[str, Any] = {}
        for key, value in mapping.items():
            if type(value) is Task and task_to_dict is not None:
                dct = task_to_dict(value)
                if "typename" not in dct:
                    dct["typename"] = _TASK_TYPENAME
                out[str(key)] = dct
            else:
                out[str(key)] = convert(value)
        return out


_TASK_TYPENAME = "Task"


def _task_converter(registry: Any) -> Any:
    """The bound ``to_dict`` of the registry's task converter (None when it is not the caching one)."""
    found = registry.__dict__.get("_ow_task_to_dict", False)
    if found is False:
        entry = registry.convert_to_dict.get(_TASK_TYPENAME)
        func = entry.args[1] if entry is not None and len(entry.args) == 2 else None
        found = func if isinstance(getattr(func, "__self__", None), _CachingTaskConverter) else None
        registry.__dict__["_ow_task_to_dict"] = found
    return found


class _SubWorkflowConverter(_DirectTaskMapping, BpmnSubWorkflowConverter):  # type: ignore[misc]
    pass


class _SpeclessWorkflowConverter(_DirectTaskMapping, BpmnWorkflowConverter):  # type: ignore[misc]
    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> Any:
        from uuid import UUID

        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_registry(*, cache_finished_tasks: bool = True) -> Any:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpeclessWorkflowConverter
    if cache_finished_tasks:
        config[Task] = _CachingTaskConverter
        config[BpmnSubWorkflow] = _SubWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Form data is JSON, but scripts may produce dates and decimals.
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(datetime, lambda v: {"value": v.isoformat()}, lambda v: datetime.fromisoformat(v["value"]))
    return registry


_REGISTRY = _build_registry()
_SERIALIZER = BpmnWorkflowSerializer(registry=_REGISTRY)


def dump_state(workflow: Any) -> bytes:
    """The case's own state (task tree, data, events), JSON compressed with zlib level 1."""
    dct = _SERIALIZER.to_dict(workflow)
    dct[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
    return zlib.compress(orjson.dumps(dct, option=orjson.OPT_NON_STR_KEYS), 1)


def load_state(blob: bytes, *, spec: Any, subprocess_specs: Any, script_engine: Any) -> Any:
    dct = orjson.loads(zlib.decompress(blob))
    _SERIALIZER.migrate(dct)
    workflow = _REGISTRY.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


# -- snapshots against a dictionary of their definition ---------------------------------------------------
def state_dictionary(spec: Any, subprocess_specs: dict[str, Any], matter_data: dict[str, Any]) -> bytes:
    """zlib's preset dictionary for the snapshots of one deployed version: the JSON a snapshot of it is made
    of (the workflow's fields, one task dict per task spec of the process and of what it calls, the matter
    data every task carries), without a case's own ids, times and data.

    A snapshot is a few KB of JSON of which most is this boilerplate; against it zlib stores the case's own
    part only (the foreign-investment snapshot: 970 B at level 6 without, 570 B with). It is made once, at
    deploy, and stored with the definition (``process_definitions.state_dictionary``): decoding a snapshot
    then never depends on this function giving the same bytes after a later change to it. zlib writes the
    dictionary's Adler-32 into the stream, so a snapshot read against another dictionary fails loudly."""
    names: set[str] = set(spec.task_specs)
    for sub in subprocess_specs.values():
        names.update(sub.task_specs)
    parts = [
        orjson.dumps(
            {
                "data": {},
                "correlations": {},
                "last_task": "",
                "success": True,
                "completed": False,
                "tasks": {},
                "root": "",
                "subprocesses": {},
                "bpmn_events": [],
                "typename": "BpmnWorkflow",
                _SERIALIZER.VERSION_KEY: _SERIALIZER.VERSION,
            }
        ),
        orjson.dumps({"matter": matter_data}),
    ]
    for name in sorted(names):
        task = {
            "id": "",
            "parent": "",
            "children": [""],
            "last_state_change": 1.0,
            "state": 64,
            "task_spec": name,
            "triggered": False,
            "internal_data": {},
            "data": {},
            "delta": {"updates": {}, "deletions": []},
            "typename": _TASK_TYPENAME,
        }
        parts.append(orjson.dumps(task))
    # zlib looks back 32 KiB at most: the task dicts, nearest the end, are what a dictionary that long keeps.
    return b"".join(parts)[-_WINDOW:]


def _deflate_snapshot(text: bytes, zdict: bytes | None) -> bytes:
    # Level 6, not 1: a snapshot is rare (a new case, then once the log outweighs it) and every running case
    # keeps one, so the smaller blob is worth the 0.1 ms.
    if not zdict:
        return zlib.compress(text, 6)
    packer = zlib.compressobj(6, zdict=zdict)
    return packer.compress(text) + packer.flush()


def snapshot_text(blob: bytes, zdict: bytes | None = None) -> bytes:
    """The JSON of a stored snapshot; ``zdict``: its definition's ``state_dictionary``."""
    try:
        if zdict:
            unpacker = zlib.decompressobj(zdict=zdict)
            return unpacker.decompress(blob) + unpacker.flush()
        return zlib.decompress(blob)
    except zlib.error as err:
        why = "a dictionary other than its definition's" if zdict else "a dictionary its definition does not have"
        raise ValueError(f"a stored snapshot does not decode: it was compressed against {why} ({err})") from None


# -- the per-step log ------------------------------------------------------------------------------------
_NESTED = ("tasks", "subprocesses")


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What turns ``before`` into ``after``: changed top-level fields, and per task / subprocess id the new
    value (``None`` for a removed one). Unchanged finished tasks are the very same dict objects (the
    converter caches them), so most of the tree is skipped by identity before any comparison."""
    changes: dict[str, Any] = {}
    for key, value in after.items():
        if key in _NESTED:
            continue
        if key not in before or before[key] != value:
            changes[key] = value
    old_tasks: dict[str, Any] = before.get("tasks", {})
    new_tasks: dict[str, Any] = after.get("tasks", {})
    tasks: dict[str, Any] = {}
    for task_id, task in new_tasks.items():
        old = old_tasks.get(task_id)
        if old is not task and old != task:
            tasks[task_id] = task
    for task_id in old_tasks.keys() - new_tasks.keys():
        tasks[task_id] = None
    if tasks:
        changes["tasks"] = tasks
    old_subs: dict[str, Any] = before.get("subprocesses", {})
    new_subs: dict[str, Any] = after.get("subprocesses", {})
    subs: dict[str, Any] = {}
    for sub_id, sub in new_subs.items():
        if sub_id not in old_subs:
            subs[sub_id] = {"new": sub}
        elif sub_changes := _diff(old_subs[sub_id], sub):
            subs[sub_id] = {"changes": sub_changes}
    for sub_id in old_subs.keys() - new_subs.keys():
        subs[sub_id] = None
    if subs:
        changes["subprocesses"] = subs
    return changes


def apply_changes(state: dict[str, Any], changes: dict[str, Any]) -> None:
    """Apply one step's recorded changes to a stored dict, in place (the inverse of ``_diff``)."""
    for key, value in changes.items():
        if key == "tasks":
            tasks = state.setdefault("tasks", {})
            for task_id, task in value.items():
                if task is None:
                    tasks.pop(task_id, None)
                else:
                    tasks[task_id] = task
        elif key == "subprocesses":
            subs = state.setdefault("subprocesses", {})
            for sub_id, change in value.items():
                if change is None:
                    subs.pop(sub_id, None)
                elif "new" in change:
                    subs[sub_id] = change["new"]
                else:
                    apply_changes(subs[sub_id], change["changes"])
        else:
            state[key] = value


def _encode(value: Any) -> bytes:
    return zlib.compress(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS), 1)


def _decode(blob: bytes) -> Any:
    return orjson.loads(zlib.decompress(blob))


# zlib looks back at most 32 KiB, so only the end of a larger snapshot can serve as the preset dictionary.
_WINDOW = 32 * 1024


def _encode_changes(changes: dict[str, Any], snapshot_json: bytes) -> bytes:
    """A step's changes, compressed with the case's snapshot as zlib's preset dictionary: the data every
    task carries a copy of (application, matter) is in the snapshot already, so a step pays for what is
    new in it, not for the copies."""
    packer = zlib.compressobj(6, zdict=snapshot_json[-_WINDOW:])
    return packer.compress(orjson.dumps(changes, option=orjson.OPT_NON_STR_KEYS)) + packer.flush()


def decode_changes(blob: bytes, snapshot_json: bytes) -> dict[str, Any]:
    """One step's changes, given the JSON of the snapshot they were recorded against."""
    unpacker = zlib.decompressobj(zdict=snapshot_json[-_WINDOW:])
    result: dict[str, Any] = orjson.loads(unpacker.decompress(blob) + unpacker.flush())
    return result


class StateLog:
    """What a case's stored state looks like now, so the next step can store only what it changed.

    It lives beside the workflow in the runtime's cache. ``stored`` is the dict form last written (the
    snapshot plus every change since); ``since_snapshot`` counts the bytes of the changes written after the
    snapshot, so the runtime can take a new snapshot when replaying would read more than a snapshot.
    """

    __slots__ = ("since_snapshot", "snapshot_bytes", "snapshot_json", "stored")

    def __init__(
        self,
        stored: dict[str, Any] | None,
        *,
        snapshot_json: bytes = b"",
        snapshot_bytes: int = 0,
        since_snapshot: int = 0,
    ) -> None:
        self.stored = stored
        self.snapshot_json = snapshot_json  # the preset dictionary of the changes recorded after it
        self.snapshot_bytes = snapshot_bytes
        self.since_snapshot = since_snapshot

    def step(self, workflow: Any) -> bytes | None:
        """The compressed changes of the workflow since the last ``step`` or ``snapshot`` (None: nothing)."""
        current = _SERIALIZER.to_dict(workflow)
        if self.stored is None:
            raise ValueError("a new case starts with a snapshot")
        changes = _diff(self.stored, current)
        self.stored = current
        if not changes:
            return None
        blob = _encode_changes(changes, self.snapshot_json)
        self.since_snapshot += len(blob)
        return blob

    def snapshot(self, workflow: Any, zdict: bytes | None = None) -> bytes:
        """The whole state (for ``cases.state``), compressed against the definition's ``state_dictionary``
        when it has one; later steps are stored relative to it."""
        current = _SERIALIZER.to_dict(workflow)
        text = orjson.dumps({**current, _SERIALIZER.VERSION_KEY: _SERIALIZER.VERSION}, option=orjson.OPT_NON_STR_KEYS)
        blob = _deflate_snapshot(text, zdict)
        self.stored, self.snapshot_json = current, text
        self.snapshot_bytes, self.since_snapshot = len(blob), 0
        return blob

    def wants_snapshot(self, ratio: float = 1.0) -> bool:
        """Replaying the log would read more than ``ratio`` times what a fresh snapshot weighs."""
        return self.since_snapshot > ratio * max(self.snapshot_bytes, 4096)


def fold_log(snapshot: bytes, changes: list[bytes], zdict: bytes | None = None) -> bytes:
    """One snapshot holding ``snapshot`` plus ``changes`` (no SpiffWorkflow involved: dicts only)."""
    text = snapshot_text(snapshot, zdict)
    dct = orjson.loads(text)
    for blob in changes:
        apply_changes(dct, decode_changes(blob, text))
    return _encode(dct)


def rebuild(
    snapshot: bytes,
    changes: list[bytes],
    *,
    spec: Any,
    subprocess_specs: Any,
    script_engine: Any,
    zdict: bytes | None = None,
) -> tuple[Any, StateLog]:
    """The workflow of a snapshot plus the changes recorded after it, and its ``StateLog``; ``zdict``: the
    definition's ``state_dictionary`` (None for one deployed without)."""
    text = snapshot_text(snapshot, zdict)
    dct = orjson.loads(text)
    _SERIALIZER.migrate(dct)
    for blob in changes:
        apply_changes(dct, decode_changes(blob, text))
    workflow = _REGISTRY.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    log = StateLog(None, snapshot_json=text, snapshot_bytes=len(snapshot), since_snapshot=sum(len(b) for b in changes))
    log.stored = _SERIALIZER.to_dict(workflow)
    return workflow, log
