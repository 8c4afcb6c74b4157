"""Workflow state without the process spec.

SpiffWorkflow's stock serializer embeds the whole parsed spec in every instance (more than half the bytes
of a small process) and rebuilds it on every load. A case here stores only its own task tree and data;
the spec comes from the in-process cache of the deployed version it runs on.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

__all__ = ["STATE_FORMAT", "dump_state", "load_state"]

STATE_FORMAT = "ow1"  # bump when the stored layout changes; Spiff's own version rides inside


_FINAL = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR


class _CachingTaskConverter(TaskConverter):  # type: ignore[misc]
    """A finished task never changes again, so its dict is built once and reused at every later save.

    Most of a case's tree is finished tasks; converting them again at each step was most of the cost of
    storing a case. The cache lives on the workflow object (so it dies with it) and is keyed by task id
    and the instant of the task's last state change.
    """

    def to_dict(self, task: Any) -> dict[str, Any]:
        if not task.state & _FINAL:
            result: dict[str, Any] = super().to_dict(task)
            return result
        cache: dict[Any, tuple[float, dict[str, Any]]] = task.workflow.__dict__.setdefault("_ow_task_dicts", {})
        hit = cache.get(task.id)
        if hit is not None and hit[0] == task.last_state_change:
            return hit[1]
        dct: dict[str, Any] = super().to_dict(task)
        cache[task.id] = (task.last_state_change, dct)
        return dct


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
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
