"""Stored state: the cached conversion of finished tasks must give exactly what a fresh conversion gives,
and a stored case must come back as the same workflow."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

from onewindow.engine import FixedClock
from onewindow.engine._engine import default_processes_dir
from onewindow.engine._services.runtime import Runtime, build_bundle
from onewindow.engine._store.models import DefinitionRow
from onewindow.engine._store.serialization import _build_registry, dump_state, load_state
from onewindow.engine._time.deadlines import Deadlines
from onewindow.engine._time.workcalendar import CHINA_TZ

from .helpers import FI_APPLICANT, FI_WALK_ANSWERS

FRESH = BpmnWorkflowSerializer(registry=_build_registry(cache_finished_tasks=False))


@pytest.fixture(scope="module")
def runtime_and_bundle() -> tuple[Runtime, Any, FixedClock]:
    from onewindow.engine import Database, Engine

    clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=CHINA_TZ).astimezone(UTC))
    engine = Engine(Database("sqlite://"), clock=clock)
    prepared = {p.matter.key: p for p in engine.repository.check(default_processes_dir()).prepared}
    fi = prepared["foreign_investment_filing"]
    row = DefinitionRow(
        id=1,
        process_id=fi.matter.process_id,
        bpmn_xml=fi.bpmn_xml,
        bpmn_file="fi.bpmn",
        catalogue=fi.matter.to_dict(),
        lane_sections=fi.lane_sections,
        forms=fi.forms,
    )
    return Runtime(engine.db, clock, Deadlines(engine.calendar)), build_bundle(row), clock


def fresh(workflow: Any) -> Any:
    dct = FRESH.to_dict(workflow)
    dct[FRESH.VERSION_KEY] = FRESH.VERSION
    return orjson.loads(orjson.dumps(dct, option=orjson.OPT_NON_STR_KEYS))


def test_cached_conversion_equals_fresh_at_every_step(runtime_and_bundle: tuple[Runtime, Any, FixedClock]) -> None:
    runtime, bundle, clock = runtime_and_bundle
    workflow = runtime.new_workflow(bundle, {"applicant": FI_APPLICANT, "matter": bundle.matter.process_data()})
    workflow.do_engine_steps()
    steps = 0
    while not workflow.completed:
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        assert ready, "the process stalled"
        task = ready[0]
        if task.task_spec.bpmn_id == "Task_FinanceCoReview":
            clock.set(datetime(2026, 3, 6, 10, 0, tzinfo=CHINA_TZ).astimezone(UTC))
            workflow.refresh_timers()  # the finance section never answers: deemed consent
            workflow.do_engine_steps()
        else:
            task.data.update(FI_WALK_ANSWERS[task.task_spec.bpmn_id])
            task.run()
            workflow.do_engine_steps()
        stored = orjson.loads(zlib.decompress(dump_state(workflow)))
        assert stored == fresh(workflow)
        steps += 1
    assert steps == 8  # intake, supplement, three reviews (one by timer), decision, seal, issue
    restored = load_state(
        dump_state(workflow),
        spec=bundle.spec,
        subprocess_specs=bundle.subprocess_specs,
        script_engine=runtime.script_engine,
    )
    assert restored.completed and restored.data == workflow.data
    assert {str(t.id): t.state for t in restored.get_tasks()} == {str(t.id): t.state for t in workflow.get_tasks()}
