"""Small BPMN documents with a full diagram (DI) for the designer tests: a chain of flow nodes in lanes."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="Defs_{pid}" targetNamespace="http://example.org/bpmn">\n'
)


@dataclass
class Node:
    id: str
    tag: str = "userTask"
    name: str = ""
    lane: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    inner: str = ""  # extra child elements, e.g. an event definition
    attrs: str = ""  # extra attributes, e.g. calledElement="..."


def process_xml(pid: str, nodes: list[Node], *, lanes: dict[str, str] | None = None, before: str = "") -> str:
    """One executable process: ``nodes`` chained by sequence flows, ``lanes`` id -> name holding them."""
    body: list[str] = []
    if lanes:
        body.append('<bpmn:laneSet id="LaneSet_1">')
        for lane_id, lane_name in lanes.items():
            refs = "".join(f"<bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>" for n in nodes if n.lane == lane_id)
            body.append(f'<bpmn:lane id="{lane_id}" name="{lane_name}">{refs}</bpmn:lane>')
        body.append("</bpmn:laneSet>")
    for n in nodes:
        ext = ""
        if n.props:
            items = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in n.props.items())
            ext = (
                "<bpmn:extensionElements><spiffworkflow:properties>"
                f"{items}</spiffworkflow:properties></bpmn:extensionElements>"
            )
        body.append(f'<bpmn:{n.tag} id="{n.id}" name="{n.name or n.id}"{n.attrs}>{ext}{n.inner}</bpmn:{n.tag}>')
    for a, b in pairwise(nodes):
        body.append(f'<bpmn:sequenceFlow id="F_{a.id}_{b.id}" sourceRef="{a.id}" targetRef="{b.id}"/>')
    shapes: list[str] = []
    for i, n in enumerate(nodes):
        shapes.append(
            f'<bpmndi:BPMNShape id="{n.id}_di" bpmnElement="{n.id}"><dc:Bounds x="{100 + 150 * i}" y="100" '
            'width="100" height="80"/></bpmndi:BPMNShape>'
        )
    for i, (a, b) in enumerate(pairwise(nodes)):
        shapes.append(
            f'<bpmndi:BPMNEdge id="F_{a.id}_{b.id}_di" bpmnElement="F_{a.id}_{b.id}">'
            f'<di:waypoint x="{200 + 150 * i}" y="140"/><di:waypoint x="{250 + 150 * i}" y="140"/></bpmndi:BPMNEdge>'
        )
    for j, lane_id in enumerate(lanes or {}):
        shapes.append(
            f'<bpmndi:BPMNShape id="{lane_id}_di" bpmnElement="{lane_id}" isHorizontal="true"><dc:Bounds x="50" '
            f'y="{60 + 200 * j}" width="{150 * len(nodes) + 100}" height="200"/></bpmndi:BPMNShape>'
        )
    return (
        HEAD.format(pid=pid)
        + before
        + f'<bpmn:process id="{pid}" isExecutable="true">\n'
        + "\n".join(body)
        + "\n</bpmn:process>\n"
        + f'<bpmndi:BPMNDiagram id="D_{pid}"><bpmndi:BPMNPlane id="P_{pid}" bpmnElement="{pid}">'
        + "".join(shapes)
        + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>\n</bpmn:definitions>\n"
    )


def catalogue(process_id: str, *, lanes: dict[str, str] | None = None, extra: str = "", code: str = "T001") -> str:
    """A minimal valid catalogue for the shipped bureau, lead section commerce."""
    text = f'''code = "{code}"
name = "测试事项"
matter_type = "10"
handling_type = "committed"
process_id = "{process_id}"
legal_limit = {{ value = 20, unit = "working_days" }}
committed_limit = {{ value = 5, unit = "working_days" }}
lead_section = "commerce"
supervising_department = "commerce_bureau"
result_name = "测试结果"
{extra}
[[materials]]
code = "M01"
name = "申请书"
issuer = "申请人"
originals = 1
copies = 0
required = true
'''
    if lanes:
        text += "\n[lanes]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in lanes.items())
    return text


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
