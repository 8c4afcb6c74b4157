"""The diagram in English: every element that carries a ``name_en`` (task, gateway, event, sequence flow, lane,
pool) is labelled with it on an English page, in its shape, its external label and its hover title; the Chinese
diagram is unchanged. The shipped matters name every labelled element in English."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from lxml import etree

from onewindow.engine._bpmn.diagram import render_svg
from onewindow.engine._engine import default_processes_dir

from .helpers import FI, post, text
from .test_diagram import BPMN, SVG, drawn, local, parse

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
SHIPPED = sorted(default_processes_dir().glob("*.bpmn"))
GATEWAYS_EVENTS_FLOWS = (
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "sequenceFlow",
)  # fmt: skip


def name_en(node: etree._Element) -> str:
    return next((p.get("value", "") for p in node.iter("{*}property") if p.get("name") == "name_en"), "")


def labels(root: etree._Element) -> dict[str, str]:
    """The external labels (gateways, events, flows) by the BPMN id they belong to, their lines joined by a space."""
    return {
        g.attrib["data-label-for"]: " ".join(" ".join(g.itertext()).split())
        for g in root.iter(f"{{{SVG}}}g")
        if "bpmn-label" in (g.get("class") or "")
    }


def named(path: str | object) -> list[etree._Element]:
    """Gateways, events and sequence flows of a file that have a (Chinese) name."""
    root = etree.parse(str(path)).getroot()
    return [n for n in root.iter(f"{{{BPMN}}}*") if local(n) in GATEWAYS_EVENTS_FLOWS and (n.get("name") or "").strip()]


def test_an_english_diagram_of_the_foreign_investment_filing_labels_gateways_events_and_flows_in_english() -> None:
    xml = (default_processes_dir() / f"{FI}.bpmn").read_bytes()
    english, chinese = parse(render_svg(xml, english=True)), parse(render_svg(xml))
    elements = named(default_processes_dir() / f"{FI}.bpmn")
    kinds = {local(n) for n in elements}
    assert {"exclusiveGateway", "startEvent", "endEvent", "boundaryEvent", "sequenceFlow"} <= kinds
    en_labels, zh_labels, groups = labels(english), labels(chinese), drawn(english)
    for node in elements:
        eid, want = node.get("id", ""), name_en(node)
        assert want, f"{eid} ({node.get('name')}) has no name_en"
        shown = en_labels[eid]
        assert not CJK.search(shown), f"{eid}: {shown}"
        assert shown == want  # wrapped over lines between words, never inside one
        assert groups[eid].findtext(f"{{{SVG}}}title") == want  # the hover title too
        assert zh_labels[eid].replace(" ", "") == node.get("name", "").replace(" ", "")  # Chinese stays Chinese
    # the tasks, lanes and the pool too: nothing drawn in the English diagram is Chinese
    assert not CJK.search("".join(english.itertext())), [t for t in english.itertext() if CJK.search(t)][:5]


def test_an_element_without_name_en_keeps_its_name() -> None:
    body = (
        '<process id="P"><startEvent id="S" name="收到申请"><extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="name_en" value="Application received"/></spiffworkflow:properties>'
        '</extensionElements></startEvent><exclusiveGateway id="G" name="是否准予?"/>'
        '<sequenceFlow id="F" name="准予" sourceRef="S" targetRef="G"><extensionElements><camunda:properties>'
        '<camunda:property name="name_en" value="Grant"/></camunda:properties></extensionElements></sequenceFlow>'
        "</process>"
    )
    shapes = (
        '<bpmndi:BPMNShape bpmnElement="S"><dc:Bounds x="0" y="0" width="36" height="36"/></bpmndi:BPMNShape>'
        '<bpmndi:BPMNShape bpmnElement="G"><dc:Bounds x="100" y="0" width="50" height="50"/></bpmndi:BPMNShape>'
        '<bpmndi:BPMNEdge bpmnElement="F"><di:waypoint x="36" y="18"/><di:waypoint x="100" y="25"/></bpmndi:BPMNEdge>'
    )
    xml = f"""<definitions xmlns="{BPMN}" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
        xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
        xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
        xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D">{body}
        <bpmndi:BPMNDiagram id="Di"><bpmndi:BPMNPlane id="Pl" bpmnElement="P">{shapes}</bpmndi:BPMNPlane>
        </bpmndi:BPMNDiagram></definitions>""".encode()
    shown = labels(parse(render_svg(xml, english=True)))
    assert shown == {"S": "Application received", "G": "是否准予?", "F": "Grant"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_labelled_gateway_event_and_flow_of_the_shipped_matters_has_an_english_name(path: object) -> None:
    assert [n.get("id") for n in named(path) if not name_en(n)] == []


def test_the_guide_draws_the_diagram_in_the_readers_language(client: FlaskClient) -> None:
    def diagram() -> etree._Element:
        page = text(client.get(f"/guide/{FI}"))
        return parse(page[page.index("<svg") : page.index("</svg>") + len("</svg>")])

    assert labels(diagram())["Gateway_Decision"] == "是否准予?"
    post(client, "/lang", {"lang": "en"})
    assert labels(diagram())["Gateway_Decision"] == "Grant?"  # not the Chinese drawing cached before
    post(client, "/lang", {"lang": "zh"})
    assert labels(diagram())["Gateway_Decision"] == "是否准予?"
