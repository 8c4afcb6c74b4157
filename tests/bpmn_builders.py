"""Small BPMN models for the simulation tests, written to tmp_path (helpers; the tests are elsewhere).

The builders produce files that pass ``onewindow deploy --check``: lanes named after sections of the
shipped bureau.toml, user tasks with shipped forms, a catalogue beside each BPMN.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

WINDOW, COMMERCE, INVESTMENT, FINANCE, ISSUING = (
    "统一受理窗口",
    "商务审批科",
    "投资促进审批科",
    "财政审批科",
    "统一出证窗口",
)


def user(node_id: str, name: str = "", form: str = "co_review.json", **props: str) -> str:
    extra = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in props.items())
    return (
        f'<bpmn:userTask id="{node_id}" name="{name or node_id}"><bpmn:extensionElements><spiffworkflow:properties>'
        f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>{extra}'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    )


def script(node_id: str, code: str, milestone: str | None = None) -> str:
    ext = (
        f'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="milestone" '
        f'value="{milestone}"/></spiffworkflow:properties></bpmn:extensionElements>'
        if milestone
        else ""
    )
    return f'<bpmn:scriptTask id="{node_id}" name="{node_id}">{ext}<bpmn:script>{code}</bpmn:script></bpmn:scriptTask>'


def start(node_id: str = "Ev_Start") -> str:
    return f'<bpmn:startEvent id="{node_id}" name="start"/>'


def end(node_id: str = "Ev_End") -> str:
    return f'<bpmn:endEvent id="{node_id}" name="end"/>'


def parallel(node_id: str) -> str:
    return f'<bpmn:parallelGateway id="{node_id}"/>'


def exclusive(node_id: str, default: str) -> str:
    return f'<bpmn:exclusiveGateway id="{node_id}" name="{node_id}?" default="{default}"/>'


def timer(node_id: str, attached: str, duration: str) -> str:
    return (
        f'<bpmn:boundaryEvent id="{node_id}" name="{node_id}" attachedToRef="{attached}" cancelActivity="true">'
        f'<bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"{duration}"'
        "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
    )


Flow = tuple[str, str] | tuple[str, str, str]


def write_model(
    folder: Path,
    key: str,
    nodes: list[str],
    flows: list[Flow],
    lanes: dict[str, list[str]],
    *,
    committed: float = 7,
    legal: float = 20,
) -> Path:
    """Write ``key.bpmn`` and ``key.toml`` into ``folder``; returns the BPMN path."""
    folder.mkdir(parents=True, exist_ok=True)
    lane_xml = "".join(
        f'<bpmn:lane id="Lane_{i}" name="{name}">'
        + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in refs)
        + "</bpmn:lane>"
        for i, (name, refs) in enumerate(lanes.items())
    )
    flow_xml = ""
    for i, f in enumerate(flows):
        condition = (
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{f[2]}</bpmn:conditionExpression>'
            if len(f) == 3
            else ""
        )
        flow_xml += (
            f'<bpmn:sequenceFlow id="Flow_{i}" sourceRef="{f[0]}" targetRef="{f[1]}">{condition}</bpmn:sequenceFlow>'
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs" '
        'targetNamespace="http://bpmn.io/schema/bpmn">'
        f'<bpmn:process id="{key}" name="{key}" isExecutable="true">'
        f'<bpmn:laneSet id="LaneSet_1">{lane_xml}</bpmn:laneSet>{"".join(nodes)}{flow_xml}'
        "</bpmn:process></bpmn:definitions>"
    )
    path = folder / f"{key}.bpmn"
    path.write_text(xml, encoding="utf-8")
    sections = {"统一受理窗口": "window", "商务审批科": "commerce", "投资促进审批科": "investment",
                "财政审批科": "finance", "统一出证窗口": "issuing"}  # fmt: skip
    approval = [sections[name] for name in lanes if sections[name] in ("commerce", "investment", "finance")]
    lead = approval[0] if approval else "commerce"
    co = [s for s in dict.fromkeys(approval) if s != lead]
    (folder / f"{key}.toml").write_text(
        f'code = "T{zlib.crc32(key.encode()) % 10**8:08d}"\nname = "测试事项 {key}"\nmatter_type = "10"\n'
        f'handling_type = "committed"\nprocess_id = "{key}"\n'
        f'legal_limit = {{ value = {legal}, unit = "working_days" }}\n'
        f'committed_limit = {{ value = {committed}, unit = "working_days" }}\n'
        f'lead_section = "{lead}"\nco_sections = {co!r}\nsupervising_department = "commerce_bureau"\n'
        'result_name = "回执"\n\n[[materials]]\ncode = "M01"\nname = "申请表"\nissuer = "申请人"\n'
        "originals = 1\ncopies = 0\nrequired = true\n".replace("'", '"'),
        encoding="utf-8",
    )
    return path


def sequential(folder: Path, durations: tuple[str, str] = ("fixed(1) working_hours", "fixed(1) working_hours")) -> Path:
    """Start → T1 → T2 → End, both in the window lane, durations as BPMN properties."""
    return write_model(
        folder,
        "seq_model",
        [start(), user("T1", simDuration=durations[0]), user("T2", simDuration=durations[1]), end()],
        [("Ev_Start", "T1"), ("T1", "T2"), ("T2", "Ev_End")],
        {WINDOW: ["Ev_Start", "T1", "T2", "Ev_End"]},
    )


def forked(folder: Path) -> Path:
    """Start → Intake (window, 1 h) → accepted → fork: A (commerce, 2 h) ∥ B (investment, 5 h) → join →
    C (commerce, 1 h) → End."""
    return write_model(
        folder,
        "fork_model",
        [
            start(),
            user("Intake", simDuration="fixed(1) working_hours"),
            script("Accept", "accepted_flag = True", milestone="accepted"),
            parallel("Fork"),
            user("A", simDuration="fixed(2) working_hours"),
            user("B", simDuration="fixed(5) working_hours"),
            parallel("Join"),
            user("C", simDuration="fixed(1) working_hours"),
            end(),
        ],
        [
            ("Ev_Start", "Intake"),
            ("Intake", "Accept"),
            ("Accept", "Fork"),
            ("Fork", "A"),
            ("Fork", "B"),
            ("A", "Join"),
            ("B", "Join"),
            ("Join", "C"),
            ("C", "Ev_End"),
        ],
        {WINDOW: ["Ev_Start", "Intake", "Accept"], COMMERCE: ["Fork", "A", "Join", "C", "Ev_End"], INVESTMENT: ["B"]},
    )


def staff(**lanes: int) -> dict[str, Any]:
    return dict(lanes)
