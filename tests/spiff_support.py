"""Helpers shared by the tests of the shipped process files (test_process_files.py) and the comparison scenarios
(test_scenario_files.py): loading bureau.toml, catalogues, forms and BPMN files, reading the BPMN XML, and driving
a diagram in raw SpiffWorkflow (no database, no engine services) on the engine's script engine, clock, working
calendar and clocked timers.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Self

from jsonschema import Draft202012Validator, FormatChecker
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from onewindow.engine._bpmn.scripting import OnewindowScriptEngine
from onewindow.engine._bpmn.timers import clock_timers
from onewindow.engine._time.clock import FixedClock
from onewindow.engine._time.workcalendar import WorkCalendar

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODES = (
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
)  # fmt: skip


# ------------------------------------------------------------------------------------------ loading


@cache
def read_toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def bureau() -> dict[str, Any]:
    return read_toml(PROCESSES / "bureau.toml")


@cache
def form(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((FORMS / name).read_text(encoding="utf-8"))
    return schema


@cache
def bpmn_tree(path: Path) -> etree._ElementTree:
    return etree.parse(str(path))


def matter_data(key: str, cat: dict[str, Any]) -> dict[str, Any]:
    """What the engine puts into the workflow data as ``matter`` at case start."""
    return {
        "key": key,
        "code": cat["code"],
        "name": cat["name"],
        "handling_type": cat["handling_type"],
        "lead_section": cat["lead_section"],
        "co_sections": list(cat.get("co_sections", [])),
        "materials": [m["code"] for m in cat["materials"]],
        "required_materials": [m["code"] for m in cat["materials"] if m["required"]],
    }


# The foreign-investment application both modules start their runs with. Not the operators' example in
# processes/examples/foreign_investment_filing.applicant.json (another enterprise): the tests assert on its name.
FI_SAMPLE_APPLICANT: dict[str, Any] = {
    "enterprise_name": "成都锦程示例科技有限公司",
    "investor_name": "Example Holdings Pte. Ltd.",
    "investor_country": "新加坡",
    "registered_capital": 500,
    "currency": "USD",
    "business_scope": "软件开发;信息技术咨询服务",
    "legal_rep_name": "张三",
    "legal_rep_id_number": "11010519491231002X",
    "legal_rep_mobile": "13800138000",
    "contact_name": "李四",
    "contact_mobile": "13900139000",
}


# ------------------------------------------------------------------------------------------ BPMN XML


def executable_process(tree: etree._ElementTree, process_id: str) -> etree._Element:
    process: etree._Element
    (process,) = tree.xpath("//bpmn:process[@id=$pid]", namespaces=NS, pid=process_id)
    return process


def flow_nodes(process: etree._Element) -> Iterator[etree._Element]:
    for node in process:
        if isinstance(node.tag, str) and etree.QName(node).localname in FLOW_NODES:
            yield node


def properties(node: etree._Element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in node.xpath("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
    }


def lane_of(process: etree._Element) -> dict[str, str]:
    """The lane name of each flow node, by node id."""
    return {
        ref.text.strip(): ref.getparent().get("name")
        for ref in process.xpath(".//bpmn:lane/bpmn:flowNodeRef", namespaces=NS)
    }


def lane_ids(process: etree._Element) -> dict[str, str]:
    """The id of each lane, by lane name."""
    return {lane.get("name"): lane.get("id") for lane in process.xpath(".//bpmn:lane", namespaces=NS)}


Box = tuple[float, float, float, float]


class Diagram:
    """A BPMN file's diagram interchange: shape bounds and edge waypoints, by the id of the element drawn."""

    def __init__(self, tree: etree._ElementTree) -> None:
        self.shapes = {
            s.get("bpmnElement"): s.find("dc:Bounds", NS) for s in tree.xpath("//bpmndi:BPMNShape", namespaces=NS)
        }
        self.edges = {e.get("bpmnElement"): e for e in tree.xpath("//bpmndi:BPMNEdge", namespaces=NS)}

    def box(self, element_id: str) -> Box:
        b = self.shapes[element_id]
        return float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height"))

    def waypoints(self, flow_id: str) -> list[tuple[float, float]]:
        return [(float(q.get("x")), float(q.get("y"))) for q in self.edges[flow_id].findall("di:waypoint", NS)]


# ------------------------------------------------------------------------------------------ running


ACCEPTED_AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 2026-03-02 10:00 China time


class ServiceScriptEngine(OnewindowScriptEngine):
    """The engine's restricted script engine on a fixed clock; service tasks are recorded and answer "ok"."""

    def __init__(self, clock: FixedClock) -> None:
        super().__init__(services={"share_result": lambda params, data: "ok"}, clock=clock, calendar=WorkCalendar())
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def call_service(self, task: Any, **kwargs: Any) -> str:
        # SpiffWorkflow 3.2 passes operation_name and operation_params ({name: {"value", "type"}}).
        params = {k: v["value"] for k, v in kwargs["operation_params"].items()}
        self.calls.append((task.task_spec.name, kwargs["operation_name"], params))
        return str(super().call_service(task, **kwargs))


@cache
def specs(path: Path, process_id: str) -> tuple[Any, dict[str, Any]]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(path))
    spec, subprocess_specs = parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    clock_timers([spec, *subprocess_specs.values()])  # timers read the script engine's clock and calendar
    return spec, subprocess_specs


Answers = dict[str, list[dict[str, Any]]]


class SpiffRun:
    """Drive one workflow from ACCEPTED_AT, answering its user tasks from prepared form data (validated against
    each task's form); record completions and milestones. A subclass records the tasks that became READY
    (``_record``) and picks the task to answer next (``next_task``)."""

    def __init__(self, spec_pair: tuple[Any, dict[str, Any]], start: dict[str, Any], answers: Answers) -> None:
        spec, subprocess_specs = spec_pair
        self.clock = FixedClock(ACCEPTED_AT)
        self.engine = ServiceScriptEngine(self.clock)
        self.wf = BpmnWorkflow(spec, subprocess_specs, script_engine=self.engine)
        for task in self.wf.get_tasks(state=TaskState.READY):
            task.data.update(start)
        self.answers = {k: list(v) for k, v in answers.items()}
        self.completed: list[str] = []
        self.milestones: list[str] = []

    def _done(self, task: Any) -> None:
        self.completed.append(task.task_spec.name)
        milestone = getattr(task.task_spec, "extensions", {}).get("properties", {}).get("milestone")
        if milestone:
            self.milestones.append(milestone)

    def _engine(self) -> None:
        self.wf.do_engine_steps(did_complete_task=self._done)
        self._record(self.ready())

    def _record(self, ready: list[Any]) -> None:
        raise NotImplementedError

    def next_task(self) -> Any:
        raise NotImplementedError

    def ready(self) -> list[Any]:
        tasks: list[Any] = self.wf.get_tasks(state=TaskState.READY, manual=True)
        return tasks

    def timers(self, state: TaskState) -> set[str]:
        return {
            t.task_spec.name
            for t in self.wf.get_tasks(state=state)
            if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)
        }

    def tick(self, at: datetime) -> None:
        """Move the clock and let due timers fire, as ``onewindow timers run`` does."""
        self.clock.set(at)
        self.wf.refresh_timers()
        self._engine()

    def step(self) -> str:
        task = self.next_task()
        name: str = task.task_spec.name
        assert self.answers.get(name), f"no answer prepared for {name}"
        data = self.answers[name].pop(0)
        schema = form(task.task_spec.extensions["properties"]["formJsonSchemaFilename"])
        Draft202012Validator(schema, format_checker=FormatChecker()).validate(data)
        task.data.update(data)
        task.run()
        self._done(task)
        self._engine()
        return name

    def run(self) -> Self:
        self._engine()
        while not self.wf.is_completed():
            self.step()
        assert not any(self.answers.values()), f"unused answers: {self.answers}"
        return self

    def end_data(self, end_event: str) -> dict[str, Any]:
        (task,) = self.wf.get_tasks(spec_name=end_event, state=TaskState.COMPLETED)
        data: dict[str, Any] = task.data
        return data
