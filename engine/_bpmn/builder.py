"""Write a BPMN process with its diagram (DI) from a grid of lanes, nodes and flows.

Used by ``onewindow new matter`` and processes/patterns/draw.py: the scaffold describes where each node sits
(a lane, a column, a row inside the lane) and the builder computes shapes and orthogonal edge waypoints, so the
file opens in Camunda Modeler and bpmn.io laid out, passes bpmnlint's recommended rules and deploys as it is.

Any labelled element (the pool, a lane, a node, a sequence flow) may carry its English name, ``name_en``, written
as the first of its ``spiffworkflow:property`` extension properties, as the shipped matters write it; the
English diagram (diagram.py ``render_svg(english=True)``) labels the element with it. A builder made with
``english=True`` refuses a labelled element without one, so a drawing meant for English pages cannot leave a
Chinese label behind.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .diagram import LABEL, Box
from .diagram_shapes import LINE_HEIGHT, fit_lines, text_width

__all__ = ["DiagramBuilder", "Flow", "Lane", "Node"]

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NSMAP = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "xsi": XSI, "spiffworkflow": SPIFF}

# Layout grid (pixels, as Camunda Modeler draws): lanes stacked, one column per step.
LEFT = 160
TOP = 80
LANE_HEADER = 30
COLUMN = 150
ROW = 140
SIZES = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}


@dataclass
class Lane:
    id: str
    name: str
    rows: int = 1
    properties: dict[str, str] = field(default_factory=dict)
    name_en: str = ""  # the lane's English name (or a name_en among ``properties``)

    @property
    def extension_properties(self) -> dict[str, str]:
        return _with_name_en(self.name_en, self.properties)


@dataclass
class Node:
    id: str
    kind: str  # BPMN element name: startEvent, userTask, scriptTask, serviceTask, …, boundaryEvent
    name: str
    lane: str
    col: int
    row: int = 0
    documentation: str = ""
    properties: dict[str, str] = field(default_factory=dict)
    script: str = ""
    post_script: str = ""
    timer: str = ""  # a boundary event's timeDuration expression
    attached_to: str = ""
    operator: str = ""  # a service task's spiffworkflow:serviceTaskOperator id
    operator_params: dict[str, str] = field(default_factory=dict)
    result_variable: str = ""
    default: str = ""  # id of a gateway's default flow
    name_en: str = ""  # the English name, shown on English pages (or a name_en among ``properties``)

    @property
    def extension_properties(self) -> dict[str, str]:
        return _with_name_en(self.name_en, self.properties)

    @property
    def shape(self) -> str:
        if self.kind.endswith("Event"):
            return "event"
        return "gateway" if self.kind.endswith("Gateway") else "task"


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str = ""
    condition: str = ""
    name_en: str = ""  # the label's English name, shown on English pages
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def extension_properties(self) -> dict[str, str]:
        return _with_name_en(self.name_en, self.properties)


class DiagramBuilder:
    """Collects lanes, nodes and flows, then writes ``<definitions>`` with one collaboration and process.

    ``english``: every labelled element must carry its English name (``participant_en`` for the pool); adding
    one without is refused (``ValueError``) where it is added."""

    def __init__(
        self,
        *,
        process_id: str,
        name: str,
        participant: str,
        documentation: str = "",
        participant_en: str = "",
        english: bool = False,
    ) -> None:
        self.process_id = process_id
        self.name = name
        self.participant = participant
        self.participant_en = participant_en
        self.documentation = documentation
        self.english = english
        self.lanes: list[Lane] = []
        self.nodes: list[Node] = []
        self.flows: list[Flow] = []
        self._require_english("the pool", participant, {"name_en": participant_en})

    def _require_english(self, what: str, name: str, properties: dict[str, str]) -> None:
        if self.english and name.strip() and not properties.get("name_en", "").strip():
            raise ValueError(f"{self.process_id}: {what} ({name}) has no English name (name_en)")

    def lane(self, lane: Lane) -> None:
        self._require_english(f"lane {lane.id}", lane.name, lane.extension_properties)
        self.lanes.append(lane)

    def add(self, node: Node) -> Node:
        self._require_english(node.id, node.name, node.extension_properties)
        self.nodes.append(node)
        return node

    def user_task(
        self, node_id: str, name: str, lane: str, col: int, row: int = 0, *, name_en: str, form: str, **props: str
    ) -> Node:
        """A human step: its English name (shown on English pages) and form come first among its properties."""
        properties = {"formJsonSchemaFilename": form, **props}
        return self.add(Node(node_id, "userTask", name, lane, col, row, properties=properties, name_en=name_en))

    def node(
        self, node_id: str, kind: str, name: str, lane: str, col: int, row: int = 0, *, name_en: str, **fields: Any
    ) -> Node:
        """Any other node, its English name given beside its name ("" for both where it has no label);
        ``fields`` are Node's other fields (script, timer, attached_to, operator, default, properties, …)."""
        if name.strip() and not name_en.strip():
            raise ValueError(f"{self.process_id}: {node_id} ({name}) has no English name (name_en)")
        return self.add(Node(node_id, kind, name, lane, col, row, name_en=name_en, **fields))

    def flow(
        self,
        source: str,
        target: str,
        *,
        name: str = "",
        condition: str = "",
        flow_id: str = "",
        name_en: str = "",
        properties: dict[str, str] | None = None,
    ) -> Flow:
        flow = Flow(flow_id or f"Flow_{source}_{target}", source, target, name, condition, name_en, properties or {})
        self._require_english(f"flow {flow.id}", name, flow.extension_properties)
        self.flows.append(flow)
        return flow

    # -- layout ---------------------------------------------------------------------------------------
    def _lane_tops(self) -> dict[str, float]:
        tops: dict[str, float] = {}
        y = float(TOP)
        for lane in self.lanes:
            tops[lane.id] = y
            y += lane.rows * ROW
        return tops

    def _boxes(self) -> dict[str, Box]:
        tops = self._lane_tops()
        boxes: dict[str, Box] = {}
        for node in self.nodes:
            if node.kind == "boundaryEvent":
                continue
            w, h = SIZES[node.shape]
            cx = LEFT + LANE_HEADER + COLUMN / 2 + node.col * COLUMN
            cy = tops[node.lane] + ROW / 2 + node.row * ROW
            boxes[node.id] = Box(cx - w / 2, cy - h / 2, w, h)
        for node in self.nodes:  # boundary events sit on the bottom edge of their task
            if node.kind == "boundaryEvent":
                host = boxes[node.attached_to]
                boxes[node.id] = Box(host.x + host.w - 38, host.y + host.h - 18, 36, 36)
        return boxes

    def _waypoints(self, flow: Flow, boxes: dict[str, Box], kinds: dict[str, str]) -> list[tuple[float, float]]:
        s, t = boxes[flow.source], boxes[flow.target]
        down = t.cy > s.cy
        enter_vertical = (t.cx, t.y if down else t.y + t.h)
        if kinds[flow.source] == "boundaryEvent":
            return [(s.cx, s.y + s.h), (s.cx, t.cy), (t.x, t.cy)]
        if abs(s.cy - t.cy) < 1:
            if t.cx > s.cx:
                return [(s.x + s.w, s.cy), (t.x, t.cy)]
            # Back along its own row (a loop): under the row's shapes, not through them.
            under = s.cy + ROW / 2 - 12
            return [(s.cx, s.y + s.h), (s.cx, under), (t.cx, under), (t.cx, t.y + t.h)]
        if abs(s.cx - t.cx) < 1:
            return [(s.cx, s.y + s.h if down else s.y), enter_vertical]
        if kinds[flow.source].endswith("Gateway") and t.cx > s.cx:
            # A split leaves the gateway from its lower or upper corner and enters the branch from the left.
            return [(s.cx, s.y + s.h if down else s.y), (s.cx, t.cy), (t.x, t.cy)]
        if t.cx > s.cx:
            return [(s.x + s.w, s.cy), (t.cx, s.cy), enter_vertical]
        return [(s.x, s.cy), (t.cx, s.cy), enter_vertical]

    # -- XML ------------------------------------------------------------------------------------------
    def to_xml(self) -> bytes:
        q = _Q()
        definitions = etree.Element(
            q.bpmn("definitions"),
            nsmap=NSMAP,
            id=f"Definitions_{self.process_id}",
            targetNamespace="http://bpmn.io/schema/bpmn",
        )
        collaboration = etree.SubElement(definitions, q.bpmn("collaboration"), id=f"Collaboration_{self.process_id}")
        participant = etree.SubElement(
            collaboration,
            q.bpmn("participant"),
            id="Participant_Bureau",
            name=self.participant,
            processRef=self.process_id,
        )
        _extension_properties(participant, _with_name_en(self.participant_en, {}), q)
        process = etree.SubElement(
            definitions, q.bpmn("process"), id=self.process_id, name=self.name, isExecutable="true"
        )
        if self.documentation:
            etree.SubElement(process, q.bpmn("documentation")).text = self.documentation
        lane_set = etree.SubElement(process, q.bpmn("laneSet"), id=f"LaneSet_{self.process_id}")
        for lane in self.lanes:
            el = etree.SubElement(lane_set, q.bpmn("lane"), id=lane.id, name=lane.name)
            _extension_properties(el, lane.extension_properties, q)
            for node in self.nodes:
                if node.lane == lane.id:
                    etree.SubElement(el, q.bpmn("flowNodeRef")).text = node.id
        for node in self.nodes:
            self._node_xml(process, node, q)
        for flow in self.flows:
            el = etree.SubElement(
                process, q.bpmn("sequenceFlow"), id=flow.id, sourceRef=flow.source, targetRef=flow.target
            )
            if flow.name:
                el.set("name", flow.name)
            _extension_properties(el, flow.extension_properties, q)  # before the condition, as BPMN orders them
            if flow.condition:
                cond = etree.SubElement(el, q.bpmn("conditionExpression"))
                cond.set(f"{{{XSI}}}type", "bpmn:tFormalExpression")
                cond.text = flow.condition
        self._diagram_xml(definitions, q)
        return etree.tostring(definitions, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def _node_xml(self, process: etree._Element, node: Node, q: _Q) -> None:
        el = etree.SubElement(process, q.bpmn(node.kind), id=node.id)
        if node.name:
            el.set("name", node.name)
        if node.kind == "boundaryEvent":
            el.set("attachedToRef", node.attached_to)
            el.set("cancelActivity", "true")
        if node.default:
            el.set("default", node.default)
        if node.documentation:
            etree.SubElement(el, q.bpmn("documentation")).text = node.documentation
        properties = node.extension_properties
        if properties or node.operator or node.post_script:
            ext = etree.SubElement(el, q.bpmn("extensionElements"))
            _properties(ext, properties, q)
            if node.operator:
                op = etree.SubElement(ext, q.spiff("serviceTaskOperator"), id=node.operator)
                if node.result_variable:
                    op.set("resultVariable", node.result_variable)
                params = etree.SubElement(op, q.spiff("parameters"))
                for pid, value in node.operator_params.items():
                    etree.SubElement(params, q.spiff("parameter"), id=pid, type="str", value=value)
            if node.post_script:
                etree.SubElement(ext, q.spiff("postScript")).text = node.post_script
        for flow in self.flows:
            if flow.target == node.id:
                etree.SubElement(el, q.bpmn("incoming")).text = flow.id
        for flow in self.flows:
            if flow.source == node.id:
                etree.SubElement(el, q.bpmn("outgoing")).text = flow.id
        if node.timer:
            definition = etree.SubElement(el, q.bpmn("timerEventDefinition"), id=f"TimerEventDefinition_{node.id}")
            duration = etree.SubElement(definition, q.bpmn("timeDuration"))
            duration.set(f"{{{XSI}}}type", "bpmn:tFormalExpression")
            duration.text = node.timer
        if node.script:
            etree.SubElement(el, q.bpmn("script")).text = node.script

    def _diagram_xml(self, definitions: etree._Element, q: _Q) -> None:
        boxes = self._boxes()
        kinds = {n.id: n.kind for n in self.nodes}
        width = LANE_HEADER + (max((n.col for n in self.nodes), default=0) + 1) * COLUMN + 40
        tops = self._lane_tops()
        height = sum(lane.rows for lane in self.lanes) * ROW
        diagram = etree.SubElement(definitions, q.di("BPMNDiagram"), id=f"BPMNDiagram_{self.process_id}")
        plane = etree.SubElement(
            diagram,
            q.di("BPMNPlane"),
            id=f"BPMNPlane_{self.process_id}",
            bpmnElement=f"Collaboration_{self.process_id}",
        )
        _shape(plane, q, "Participant_Bureau", Box(LEFT, TOP, width, height), horizontal=True)
        for lane in self.lanes:
            box = Box(LEFT + LANE_HEADER, tops[lane.id], width - LANE_HEADER, lane.rows * ROW)
            _shape(plane, q, lane.id, box, horizontal=True)
        paths = {flow.id: self._waypoints(flow, boxes, kinds) for flow in self.flows}
        for node in self.nodes:
            shape = _shape(plane, q, node.id, boxes[node.id])
            if node.name and node.shape != "task":
                _label(shape, q, self._node_label(node, boxes[node.id], paths))
        for flow in self.flows:
            edge = etree.SubElement(plane, q.di("BPMNEdge"), id=f"{flow.id}_di", bpmnElement=flow.id)
            for x, y in paths[flow.id]:
                etree.SubElement(edge, q.ddi("waypoint"), x=_num(x), y=_num(y))
            if flow.name:
                from_gateway = kinds[flow.source].endswith("Gateway")
                _label(edge, q, _flow_label(flow, paths[flow.id], boxes[flow.target], from_gateway))

    # -- labels ---------------------------------------------------------------------------------------
    # Events, gateways and flows carry their names outside the shape. Without label bounds every modeller
    # puts them where it likes (under the shape, at the middle of the flow), and two flows leaving a
    # gateway down the same line put theirs on top of each other; the bounds written here keep each label
    # clear of the lines, in Camunda Modeler and on the worklist's diagram alike.
    def _node_label(self, node: Node, box: Box, paths: dict[str, list[tuple[float, float]]]) -> Box:
        if node.kind == "boundaryEvent":
            # just under its task, left of the event and of the flow that leaves it downwards (right of it is
            # the next column), so that a one-line name stays inside a lane's last row
            w, h = _label_size(node.name, node.name_en, 110.0)
            return Box(box.x - 2 - w, box.cy + 1, w, h)
        bottom = (box.cx, box.y + box.h)
        if node.kind.endswith("Gateway") and any(bottom in (p[0], p[-1]) for p in paths.values()):
            # a branch leaves downwards: above it, no wider than the gap between the shapes on either side
            w, h = _label_size(node.name, node.name_en, 100.0)
            return Box(box.cx - w / 2, box.y - h - 2, w, h)
        w, h = _label_size(node.name, node.name_en)
        return Box(box.cx - w / 2, box.y + box.h + 4, w, h)


def _label_size(name: str, name_en: str, most: float = 120.0) -> tuple[float, float]:
    """Room for the label in either language, at most ``most`` wide, as the worklist's diagram wraps it (its
    own label font and line breaking): an English name too long for one line takes more."""
    longest = max(text_width(name, LABEL), text_width(name_en, LABEL) if name_en else 0.0)
    width = min(max(longest + 2, 24.0), most)
    lines = max(len(fit_lines(text, width + 8, 1e4, LABEL)) for text in (name, name_en) if text)
    return width, math.ceil(lines * LABEL * LINE_HEIGHT)


def _flow_label(flow: Flow, path: list[tuple[float, float]], target: Box, from_gateway: bool) -> Box:
    """Above the flow's first horizontal part (after the corner of a branch leaving a gateway downwards; below
    it when it leaves a gateway sideways, whose own name is above), else right of a straight vertical flow,
    near its end."""
    for i, ((x0, y0), (x1, y1)) in enumerate(itertools.pairwise(path)):
        if abs(y1 - y0) < 1 and abs(x1 - x0) >= 1:
            w, h = _label_size(flow.name, flow.name_en, abs(x1 - x0) - 16)  # within the segment, clear of arrows
            if i > 0:  # after a corner: start just past it, on the side the flow comes from
                return Box(x0 + 6 if x1 > x0 else x0 - 6 - w, y0 - h - 2, w, h)
            return Box((x0 + x1) / 2 - w / 2, y0 + 3 if from_gateway else y0 - h - 2, w, h)
    w, h = _label_size(flow.name, flow.name_en)
    x, y = path[-1]
    return Box(x + 5, target.y - h - 6 if y <= target.y + 1 else target.y + target.h + 6, w, h)


def _label(parent: etree._Element, q: _Q, box: Box) -> None:
    label = etree.SubElement(parent, q.di("BPMNLabel"))
    etree.SubElement(label, f"{{{DC}}}Bounds", x=_num(box.x), y=_num(box.y), width=_num(box.w), height=_num(box.h))


class _Q:
    """Qualified names for the namespaces used here."""

    def bpmn(self, local: str) -> str:
        return f"{{{BPMN}}}{local}"

    def spiff(self, local: str) -> str:
        return f"{{{SPIFF}}}{local}"

    def di(self, local: str) -> str:
        return f"{{{BPMNDI}}}{local}"

    def ddi(self, local: str) -> str:
        return f"{{{DI}}}{local}"


def _properties(ext: etree._Element, properties: dict[str, str], q: _Q) -> None:
    """``properties`` as spiffworkflow:property elements inside extensionElements ``ext`` (none: nothing)."""
    if properties:
        props = etree.SubElement(ext, q.spiff("properties"))
        for name, value in properties.items():
            etree.SubElement(props, q.spiff("property"), name=name, value=value)


def _extension_properties(el: etree._Element, properties: dict[str, str], q: _Q) -> None:
    """``properties`` in an extensionElements of ``el`` (none: no extensionElements)."""
    if properties:
        _properties(etree.SubElement(el, q.bpmn("extensionElements")), properties, q)


def _with_name_en(name_en: str, properties: dict[str, str]) -> dict[str, str]:
    """The extension properties with the English name first, as the shipped matters write it."""
    return {"name_en": name_en, **properties} if name_en else properties


def _shape(plane: etree._Element, q: _Q, element: str, box: Box, *, horizontal: bool = False) -> etree._Element:
    shape = etree.SubElement(plane, q.di("BPMNShape"), id=f"{element}_di", bpmnElement=element)
    if horizontal:
        shape.set("isHorizontal", "true")
    etree.SubElement(shape, f"{{{DC}}}Bounds", x=_num(box.x), y=_num(box.y), width=_num(box.w), height=_num(box.h))
    return shape


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
