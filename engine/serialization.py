"""Workflow state without the process spec.

SpiffWorkflow's stock serializer embeds the whole parsed spec in every instance (more than half the bytes
of a small process) and rebuilds it on every load. A case here stores only its own task tree and data;
the spec comes from the in-process cache of the deployed version it runs on.
"""

from __future__ import annotations

import json
import zlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

__all__ = ["STATE_FORMAT", "dump_state", "load_state"]

STATE_FORMAT = "ow1"  # bump when the stored layout changes; Spiff's own version rides inside


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


def _build_registry() -> Any:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpeclessWorkflowConverter
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
    raw = json.dumps(dct, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return zlib.compress(raw, 1)


def load_state(blob: bytes, *, spec: Any, subprocess_specs: Any, script_engine: Any) -> Any:
    dct = json.loads(zlib.decompress(blob))
    _SERIALIZER.migrate(dct)
    workflow = _REGISTRY.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow
