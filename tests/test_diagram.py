"""Server-side BPMN → SVG rendering (engine/diagram.py) and ``onewindow render``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from onewindow.cli.main import cli
from onewindow.engine import DeploymentError, Engine
from onewindow.engine._bpmn.diagram import render_svg
from onewindow.engine._bpmn.diagram_shapes import fit_lines, wrap_lines
from onewindow.engine._engine import default_processes_dir

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, OnewindowRunner, open_tasks

SVG = "http://www.w3.org/2000/svg"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
FLOW_NODES = {
    "task", "userTask", "scriptTask", "serviceTask", "manualTask", "sendTask", "receiveTask", "businessRuleTask",
    "callActivity", "subProcess", "adHocSubProcess", "transaction", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway", "complexGateway",
}  # fmt: skip
PROCESSES = sorted(default_processes_dir().glob("*.bpmn"))
FI_FILE = default_processes_dir() / f"{FI}.bpmn"
CORPUS = Path("/work/shared/corpus")
CORPUS_FILES = sorted(CORPUS.glob("miwg/**/*.bpmn")) if CORPUS.is_dir() else []


def parse(svg: str) -> etree._Element:
    root = etree.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{{{SVG}}}svg"
    assert len(root.get("viewBox", "").split()) == 4
    return root


def drawn(root: etree._Element) -> dict[str, etree._Element]:
    """The element groups of a rendered diagram by BPMN id."""
    return {g.attrib["data-element-id"]: g for g in root.iter(f"{{{SVG}}}g") if g.get("data-element-id")}


def classes(g: etree._Element) -> set[str]:
    return set((g.get("class") or "").split())


def shown_text(g: etree._Element) -> str:
    """What the group shows as text (its <title> hover text left out)."""
    return "".join("".join(t.itertext()) for t in g.iter(f"{{{SVG}}}text"))


def local(node: etree._Element) -> str:
    return etree.QName(node).localname


# -- the shipped processes --------------------------------------------------------------------------------
@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.name)
def test_shipped_process_draws_every_flow_node_and_lane(path: Path) -> None:
    model = etree.parse(str(path)).getroot()
    root = parse(render_svg(path.read_bytes(), filename=path.name))
    groups = drawn(root)
    nodes = [e for e in model.iter(f"{{{BPMN}}}*") if local(e) in FLOW_NODES]
    assert nodes
    missing = {e.get("id") for e in nodes} - set(groups)
    assert not missing
    for node in nodes:
        g = groups[node.attrib["id"]]
        title = g.find(f"{{{SVG}}}title")
        assert title is not None and title.text == (node.get("name") or f"{local(node)} {node.get('id')}")
    for flow in model.iter(f"{{{BPMN}}}sequenceFlow"):
        assert "bpmn-flow" in classes(groups[flow.attrib["id"]])
    lanes = list(model.iter(f"{{{BPMN}}}lane"))
    assert lanes
    for lane in lanes:
        g = groups[lane.attrib["id"]]
        assert "bpmn-lane" in classes(g)
        assert lane.attrib["name"] in shown_text(g)
    for participant in model.iter(f"{{{BPMN}}}participant"):
        assert "bpmn-pool" in classes(groups[participant.attrib["id"]])
    assert not any("done" in classes(g) or "current" in classes(g) for g in groups.values())


def test_done_and_current_land_on_their_elements() -> None:
    done = {"StartEvent_ApplicationReceived", "Task_Intake", "Gateway_MaterialsMerge"}
    current = {"Task_LeadReview", "Task_InvestmentCoReview"}
    root = parse(render_svg(FI_FILE.read_bytes(), done=done, current=current))
    groups = drawn(root)
    assert classes(groups["Task_Intake"]) == {"bpmn-task", "done"}
    assert classes(groups["StartEvent_ApplicationReceived"]) == {"bpmn-event", "done"}
    assert classes(groups["Gateway_MaterialsMerge"]) == {"bpmn-gateway", "done"}
    assert classes(groups["Task_LeadReview"]) == {"bpmn-task", "current"}
    assert classes(groups["Task_InvestmentCoReview"]) == {"bpmn-task", "current"}
    assert classes(groups["Task_FinanceCoReview"]) == {"bpmn-task"}
    assert groups["Task_Intake"].find(f".//{{{SVG}}}g[@class='bpmn-tick']") is not None
    assert groups["Task_LeadReview"].find(f".//{{{SVG}}}g[@class='bpmn-tick']") is None
    # Flows leaving a done node are drawn darker; the rest are not.
    assert classes(groups["Flow_StartToIntake"]) == {"bpmn-flow", "done"}
    assert classes(groups["Flow_IntakeToMerge"]) == {"bpmn-flow", "done"}
    assert classes(groups["Flow_MergeToCompare"]) == {"bpmn-flow", "done"}
    assert classes(groups["Flow_CompareToCheck"]) == {"bpmn-flow"}
    marked = {eid for eid, g in groups.items() if classes(g) & {"done", "current"}}
    assert marked == done | current | {"Flow_StartToIntake", "Flow_IntakeToMerge", "Flow_MergeToCompare"}


def test_chinese_wraps_by_character_and_keeps_punctuation_with_its_word() -> None:
    assert wrap_lines("一次性告知并登记补正", 88, 12) == ["一次性告知并登", "记补正"]
    assert wrap_lines("推送审管信息(不予许可)", 88, 12) == ["推送审管信息", "(不予许可)"]
    assert wrap_lines("材料齐全，予以受理", 48, 12) == ["材料齐", "全，予以", "受理"]  # '，' never starts a line
    assert wrap_lines("Review the application", 80, 12) == ["Review the", "application"]
    assert fit_lines("一二三四五六七八九十" * 3, 60, 30, 12) == ["一二三四五", "六七八九…"]


# -- crafted files ----------------------------------------------------------------------------------------
def bpmn(body: str, diagram: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{BPMN}" xmlns:bpmndi="{BPMNDI}" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Defs" targetNamespace="urn:test">
{body}
{diagram}
</definitions>""".encode()


def shape(eid: str, x: int, y: int, w: int = 100, h: int = 80) -> str:
    bounds = f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/>'
    return f'<bpmndi:BPMNShape id="{eid}_di" bpmnElement="{eid}">{bounds}</bpmndi:BPMNShape>'


def edge(eid: str, *points: tuple[int, int]) -> str:
    waypoints = "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points)
    return f'<bpmndi:BPMNEdge id="{eid}_di" bpmnElement="{eid}">{waypoints}</bpmndi:BPMNEdge>'


def diagram(plane_id: str, element: str, content: str) -> str:
    plane = f'<bpmndi:BPMNPlane id="{plane_id}" bpmnElement="{element}">{content}</bpmndi:BPMNPlane>'
    return f'<bpmndi:BPMNDiagram id="D_{plane_id}">{plane}</bpmndi:BPMNDiagram>'


HOSTILE = '<script>alert("x")</script> & <b>co</b>'
HOSTILE_XML = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def test_names_are_escaped_never_markup() -> None:
    xml = bpmn(
        f"""<process id="P" isExecutable="true">
  <laneSet id="LS">
    <lane id="L" name="{HOSTILE_XML}"><flowNodeRef>S</flowNodeRef><flowNodeRef>T</flowNodeRef></lane>
  </laneSet>
  <startEvent id="S" name="{HOSTILE_XML}"/>
  <userTask id="T" name="{HOSTILE_XML}"/>
  <sequenceFlow id="F" name="{HOSTILE_XML}" sourceRef="S" targetRef="T"/>
</process>""",
        diagram(
            "Plane",
            "P",
            shape("L", 0, 0, 600, 200)
            + shape("S", 60, 82, 36, 36)
            + shape("T", 200, 60)
            + edge("F", (96, 100), (200, 100)),
        ),
    )
    svg = render_svg(xml, title=HOSTILE, done={"S"})
    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&amp;" in svg
    root = parse(svg)
    assert {local(e) for e in root.iter(etree.Element)} <= {
        "svg", "title", "defs", "marker", "path", "circle", "g", "rect", "polygon", "polyline", "line", "text", "tspan",
    }  # fmt: skip
    title = root.find(f"{{{SVG}}}title")
    assert title is not None and title.text == HOSTILE
    for eid in ("L", "S", "T", "F"):
        title = drawn(root)[eid].find(f"{{{SVG}}}title")
        assert title is not None and title.text == HOSTILE
    assert shown_text(drawn(root)["T"]).replace(" ", "").startswith('<script>alert("x")')
    labels = [g for g in root.iter(f"{{{SVG}}}g") if g.get("data-label-for") in ("S", "F")]
    assert len(labels) == 2
    assert all("<b>co</b>" in shown_text(g).replace(" ", "") for g in labels)


def test_a_file_without_diagram_interchange_is_refused_in_one_line() -> None:
    xml = bpmn('<process id="P"><startEvent id="S"/></process>', "")
    with pytest.raises(DeploymentError) as err:
        render_svg(xml, filename="nodi.bpmn")
    assert str(err.value) == "nodi.bpmn: no diagram interchange (BPMNDiagram) to render"
    empty_plane = diagram("Plane", "P", "")
    with pytest.raises(DeploymentError, match="no diagram interchange"):
        render_svg(bpmn('<process id="P"><startEvent id="S"/></process>', empty_plane), filename="x.bpmn")


def test_process_id_picks_its_diagram_and_unknown_elements_are_plain_rectangles() -> None:
    body = """<process id="P1"><task id="A" name="甲"/></process>
<process id="P2"><task id="B" name="乙"/><choreographyTask id="C" name="丙"/></process>"""
    planes = diagram("Plane1", "P1", shape("A", 0, 0))
    planes += diagram("Plane2", "P2", shape("B", 0, 0) + shape("C", 200, 0) + shape("Nowhere", 400, 0))
    first = parse(render_svg(bpmn(body, planes)))
    assert first.get("data-plane-id") == "Plane1" and set(drawn(first)) == {"A"}
    second = parse(render_svg(bpmn(body, planes), process_id="P2"))
    assert second.get("data-plane-id") == "Plane2"
    groups = drawn(second)
    assert classes(groups["C"]) == {"bpmn-unknown"} and shown_text(groups["C"]) == "丙"
    assert classes(groups["Nowhere"]) == {"bpmn-unknown"}


# -- the MIWG corpus: 14 tools' exports -------------------------------------------------------------------
def expected_plane(root: etree._Element) -> etree._Element:
    """The first plane with content that shows a collaboration or a process (else the first with content)."""
    kinds: dict[str | None, str] = {}
    for node in root.iter(f"{{{BPMN}}}*"):
        kinds.setdefault(node.get("id"), local(node))
    planes = [p for p in root.iter(f"{{{BPMNDI}}}BPMNPlane") if len(p)]
    top = [p for p in planes if kinds.get(p.get("bpmnElement")) in ("collaboration", "process")]
    return (top or planes)[0]


@pytest.mark.skipif(not CORPUS_FILES, reason="no BPMN corpus at /work/shared/corpus")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS / "miwg")))
def test_corpus_file_renders_every_sequence_flow_of_its_plane(path: Path) -> None:
    xml = path.read_bytes()
    try:
        svg = render_svg(xml, filename=path.name)
    except DeploymentError as err:
        assert "no diagram interchange" in str(err)
        return
    root = parse(svg)
    model = etree.fromstring(xml)
    kinds: dict[str | None, str] = {}
    for node in model.iter(f"{{{BPMN}}}*"):
        kinds.setdefault(node.get("id"), local(node))
    plane = expected_plane(model)
    assert root.get("data-plane-id") == (plane.get("id") or "")
    edges = [e for e in plane.iter(f"{{{BPMNDI}}}BPMNEdge") if kinds.get(e.get("bpmnElement")) == "sequenceFlow"]
    flows = [g for g in root.iter(f"{{{SVG}}}g") if "bpmn-flow" in classes(g)]
    assert len(flows) == len(edges)
    for g in drawn(root).values():
        assert g.find(f"{{{SVG}}}title") is not None


# -- the CLI ----------------------------------------------------------------------------------------------
def test_cli_renders_a_bpmn_file_to_a_file_and_to_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["render", str(FI_FILE), "-o", "out.svg"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    root = parse((tmp_path / "out.svg").read_text(encoding="utf-8"))
    assert "Task_Intake" in drawn(root)
    assert not (tmp_path / "onewindow.db").exists()  # a file needs no database
    result = runner.invoke(cli, ["render", str(FI_FILE)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Task_Intake" in drawn(parse(result.stdout))


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["render", str(tmp_path / "missing.bpmn")])
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1
    nodi = tmp_path / "nodi.bpmn"
    nodi.write_bytes(bpmn('<process id="P"><startEvent id="S"/></process>', ""))
    refused = runner.invoke(cli, ["render", str(nodi)])
    assert refused.exit_code == 1
    assert refused.stderr == f"error: {nodi}: no diagram interchange (BPMNDiagram) to render\n"


def test_cli_renders_a_case_progress(sqlite_engine: Engine, runner: OnewindowRunner, tmp_path: Path) -> None:
    case_no = sqlite_engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    intake = open_tasks(sqlite_engine, case_no)["Task_Intake"]
    sqlite_engine.tasks.complete(
        intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    out = tmp_path / "case.svg"
    result = runner.invoke(cli, ["render", FI, "--case", case_no, "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    groups = drawn(parse(out.read_text(encoding="utf-8")))
    assert "done" in classes(groups["Task_Intake"])
    reviews = {"Task_LeadReview", "Task_InvestmentCoReview", "Task_FinanceCoReview"}
    # Issue 16: the CLI marks what the worklist marks, so the co-reviews' waiting deadline timers are current
    # and the script tasks the case ran are done, not only user tasks.
    timers = {"Timer_InvestmentCoReviewOverdue", "Timer_FinanceCoReviewOverdue"}
    assert {eid for eid, g in groups.items() if "current" in classes(g)} == reviews | timers
    done_tasks = {eid for eid, g in groups.items() if "done" in classes(g) and "bpmn-task" in classes(g)}
    assert done_tasks == {"Task_Intake", "Task_CompareMaterials", "Task_Accept"}

    deployed = runner.invoke(cli, ["render", FI], catch_exceptions=False)
    assert deployed.exit_code == 0 and "Task_Intake" in drawn(parse(deployed.stdout))
    wrong = runner.invoke(cli, ["render", "enterprise_registration", "--case", case_no])
    assert wrong.exit_code == 1 and "is a case of 'foreign_investment_filing'" in wrong.stderr
    unknown = runner.invoke(cli, ["render", FI, "--case", "WH-1999-000001"])
    assert unknown.exit_code == 1 and "unknown case" in unknown.stderr
