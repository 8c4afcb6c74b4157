"""A deployed process, parsed once: SpiffWorkflow spec plus what onewindow reads from the BPMN itself.

Besides SpiffWorkflow's spec we read, per flow node: its lane (a bureau section), the form of a user
task (``formJsonSchemaFilename`` property or Camunda's ``formKey``), a step limit (``stepLimit``
property, e.g. ``3 working_days``), a case milestone (``milestone`` property: accepted,
supplement_requested, refused_acceptance, approved, rejected, issued) and the English name of the node and of
its lane (``name_en`` property, on the node or on the ``bpmn:lane``), which the English worklist shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .._config.catalogue import Matter
from .safe_xml import parse_xml_bytes
from .starts import plain_message_starts
from .timers import clock_timers

__all__ = [
    "APPLICANT_NOTICES",
    "ASSIGNEES",
    "MILESTONES",
    "TASK_CHECKS",
    "ParsedProcess",
    "ProcessBundle",
    "TaskMeta",
    "parse_process",
    "read_task_meta",
    "with_default_form",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

MILESTONES = {  # what the history says when a task carrying the milestone completes
    "accepted": "受理(法定时限开始计算)",
    "supplement_requested": "补正材料已登记",
    "refused_acceptance": "不予受理",
    "approved": "准予(已用印)",
    "rejected": "不予许可(决定书已送达)",
    "issued": "已出证",
    "terminated": "终止办理(容缺材料逾期未补齐)",
}


# The values the patterns' task properties take (engine/_services/pattern_rules.py); deploy refuses others.
TASK_CHECKS = ("inspection_team", "inspection_record", "waiver")
ASSIGNEES = ("supervising_department",)
APPLICANT_NOTICES = ("inspection_appointment", "rectification", "inspection_failed", "waiver_accepted", "waiver_lapsed")


@dataclass(frozen=True)
class TaskMeta:
    id: str
    name: str
    tag: str
    line: int | None
    lane: str | None = None
    form: str | None = None
    # English names (the ``name_en`` property of the node and of its lane); "" where the BPMN gives none
    name_en: str = ""
    lane_en: str = ""
    step_limit: str | None = None
    milestone: str | None = None
    # Reusable patterns (processes/patterns/): a check the engine makes of the task's form data before it
    # completes (``check``: inspection_team, inspection_record, waiver), a special procedure the legal clock
    # stands still for while the task is open, where the matter's law allows it (``clockPause``), who gets the
    # task instead of its lane (``assignTo``: supervising_department) and a notice to the applicant recorded
    # when it completes (``notifyApplicant``).
    check: str | None = None
    clock_pause: str | None = None
    assign_to: str | None = None
    notify: str | None = None


@dataclass
class ProcessBundle:
    """Everything needed to run cases of one deployed version; cached per definition id."""

    definition_id: int
    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    matter: Matter
    lane_sections: dict[str, str] = field(default_factory=dict)
    forms: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, TaskMeta] = field(default_factory=dict)
    # zlib's preset dictionary for this version's snapshots (serialization.state_dictionary); None for a
    # version deployed before there was one
    state_dictionary: bytes | None = None

    def node(self, bpmn_id: str) -> TaskMeta | None:
        return self.nodes.get(bpmn_id)

    def name_en(self, bpmn_id: str) -> str:
        """The node's English name (``name_en``), "" where the BPMN gives none."""
        meta = self.nodes.get(bpmn_id)
        return meta.name_en if meta is not None else ""


def _properties(node: etree._Element) -> dict[str, str]:
    props: dict[str, str] = {}
    for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        name, value = prop.get("name"), prop.get("value")
        if name and value is not None:
            props[name] = value
    return props


def _form_name(node: etree._Element, props: dict[str, str]) -> str | None:
    form = props.get("formJsonSchemaFilename") or node.get(f"{{{CAMUNDA_NS}}}formKey")
    if not form:
        return None
    # Camunda writes keys such as "embedded:app:forms/x.json" or "camunda-forms:deployment:x.json".
    return form.rsplit(":", 1)[-1].rsplit("/", 1)[-1].strip() or None


def read_task_meta(process: etree._Element) -> dict[str, TaskMeta]:
    """Lane, form, step limit and milestone of every flow node in one ``bpmn:process``."""
    lanes: dict[str, str | None] = {}
    lanes_en: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        lane_en = _properties(lane).get("name_en", "").strip()
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                # Nested lanes: the innermost lane wins, as in SpiffWorkflow.
                lanes[ref.text.strip()] = lane.get("name")
                lanes_en[ref.text.strip()] = lane_en
    nodes: dict[str, TaskMeta] = {}
    for node in process.iter():
        if not isinstance(node.tag, str) or not node.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        node_id = node.get("id")
        tag = etree.QName(node).localname
        if not node_id or tag in {"sequenceFlow", "lane", "laneSet", "process", "flowNodeRef"}:
            continue
        props = _properties(node)
        nodes[node_id] = TaskMeta(
            id=node_id,
            name=(node.get("name") or node_id).strip(),
            tag=tag,
            line=node.sourceline,
            lane=lanes.get(node_id),
            name_en=props.get("name_en", "").strip(),
            lane_en=lanes_en.get(node_id, ""),
            form=_form_name(node, props) if tag == "userTask" else None,
            step_limit=props.get("stepLimit"),
            milestone=props.get("milestone"),
            check=props.get("check"),
            clock_pause=props.get("clockPause"),
            assign_to=props.get("assignTo"),
            notify=props.get("notifyApplicant"),
        )
    return nodes


@dataclass(frozen=True)
class ParsedProcess:
    spec: Any
    subprocess_specs: dict[str, Any]
    nodes: dict[str, TaskMeta]
    cycle_timers: list[str]  # ids of cycle timers, which stay on SpiffWorkflow's wall clock


def parse_process(
    bpmn_xml: bytes, *, filename: str, process_id: str, called: Mapping[str, bytes] | None = None
) -> ParsedProcess:
    """Parse a checked BPMN once: SpiffWorkflow's specs with clocked timers, and our per-node metadata.

    ``called`` (file name -> BPMN) holds the other files whose processes the call activities call."""
    parser = SpiffBpmnParser()
    trees = []
    for name, xml in [(filename, bpmn_xml), *(called or {}).items()]:
        tree = parse_xml_bytes(xml, filename=name)
        plain_message_starts(tree.getroot())
        parser.add_bpmn_xml(tree, filename=name)
        trees.append(tree)
    spec = parser.get_spec(process_id)
    subprocess_specs = parser.get_subprocess_specs(process_id)
    cycle_timers = clock_timers([spec, *subprocess_specs.values()])
    nodes: dict[str, TaskMeta] = {}
    for pid in [process_id, *subprocess_specs]:
        for tree in trees:
            process = tree.getroot().find(f".//{{{BPMN_NS}}}process[@id='{pid}']")
            if process is not None:
                nodes = {**read_task_meta(process), **nodes}  # the caller's own nodes win on a shared id
    return ParsedProcess(spec, subprocess_specs, nodes, cycle_timers)


def with_default_form(nodes: dict[str, TaskMeta], form: str) -> dict[str, TaskMeta]:
    """``nodes`` with ``form`` for every user task that names none (deploy gave it the generic form)."""
    return {k: replace(m, form=form) if m.tag == "userTask" and not m.form else m for k, m in nodes.items()}
