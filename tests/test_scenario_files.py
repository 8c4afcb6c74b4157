"""The comparison scenarios in processes/scenarios/: the foreign-investment matter as it ran before the reform.

``foreign_investment_serial`` draws the seed's "before": the applicant went to three departments one after
the other (区商务局 → 区投资促进局 → 区财政局), each with its own intake, review and decision, handing in the
same set of materials each time (~130 working days legal, at least 20 in practice). The lanes borrow the
bureau's sections 商务审批科, 投资促进审批科 and 财政审批科 for the three former departments.

As in test_process_files.py, the files are checked against each other and the diagram is driven in raw
SpiffWorkflow (no database, no engine services), borrowing only onewindow's script engine, clock, working
calendar and clocked timers, with the helpers in spiff_support.py.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from onewindow.engine._bpmn.scripting import check_expression, check_script
from onewindow.engine._config.bureau import load_bureau
from onewindow.engine._config.catalogue import parse_catalogue
from onewindow.engine._services.repository import RepositoryService

from . import spiff_support
from .spiff_support import FORMS, NS, PROCESSES, Answers, bureau, flow_nodes, form, lane_of, properties

SCENARIOS = PROCESSES / "scenarios"
MATTER = "foreign_investment_serial"
BPMN = SCENARIOS / f"{MATTER}.bpmn"

COMMERCE, INVESTMENT, FINANCE = "商务审批科", "投资促进审批科", "财政审批科"
DEPARTMENTS = ("Commerce", "Investment", "Finance")  # the id infix of each former department's nodes
LANE_OF_DEPARTMENT = {"Commerce": COMMERCE, "Investment": INVESTMENT, "Finance": FINANCE}


# ------------------------------------------------------------------------------------------ loading


def catalogue() -> dict[str, Any]:
    return spiff_support.read_toml(SCENARIOS / f"{MATTER}.toml")


def bpmn_tree() -> etree._ElementTree:
    return spiff_support.bpmn_tree(BPMN)


def process() -> etree._Element:
    return spiff_support.executable_process(bpmn_tree(), MATTER)


# ------------------------------------------------------------------------------------------ static


def test_the_serial_process_is_the_only_bpmn_here_and_has_its_catalogue() -> None:
    # The other .toml files beside it are simulation scenarios and parameters, not catalogues.
    assert sorted(p.name for p in SCENARIOS.glob("*.bpmn")) == [f"{MATTER}.bpmn"]
    assert (SCENARIOS / f"{MATTER}.toml").is_file()


def test_deploy_check_passes() -> None:
    """What ``onewindow deploy --check processes/scenarios`` runs: lanes, forms, scripts, catalogue."""
    loaded = load_bureau(PROCESSES / "bureau.toml")
    repository = RepositoryService(None, None, loaded, forms_dir=FORMS)  # type: ignore[arg-type]  # check only
    report = repository.check(SCENARIOS)
    assert [str(p) for p in report.problems] == []
    assert [p.matter.key for p in report.prepared] == [MATTER]
    (prepared,) = report.prepared
    assert prepared.lane_sections == {COMMERCE: "commerce", INVESTMENT: "investment", FINANCE: "finance"}
    assert set(prepared.forms) == {
        "foreign_investment_application.json", "intake_check.json", "refuse_acceptance.json", "supplement.json",
        "lead_review.json", "co_review.json", "decision.json", "seal.json", "deliver_refusal.json", "issue.json",
    }  # fmt: skip


def test_catalogue_limits_and_sections_from_the_seed() -> None:
    cat = catalogue()
    matter, problems = parse_catalogue(SCENARIOS / f"{MATTER}.toml", load_bureau(PROCESSES / "bureau.toml"))
    assert problems == []
    assert matter is not None and matter.key == cat["process_id"] == MATTER
    assert cat["name"] == "外商投资企业设立(改革前串联审批)"
    assert cat["legal_limit"] == {"value": 130, "unit": "working_days"}  # seed: ~130 working days
    assert cat["committed_limit"] == {"value": 20, "unit": "working_days"}  # seed: at least 20 in practice
    assert (cat["lead_section"], cat["co_sections"]) == ("commerce", ["investment", "finance"])
    assert cat["implementing_body"] == bureau()["bureau"]["name"]
    assert cat["implementation_code"].startswith(bureau()["bureau"]["division_code"])
    assert len(cat["code"]) <= 10 and len(cat["implementation_code"]) <= 24
    assert cat["supervising_department"] in {d["code"] for d in bureau()["departments"]}
    assert (FORMS / cat["application_form"]).is_file()
    # the after-reform matter: same materials, a different code, one window and 7 working days
    filing = spiff_support.read_toml(PROCESSES / "foreign_investment_filing.toml")
    assert cat["code"] != filing["code"]
    assert cat["materials"] == filing["materials"]
    assert filing["committed_limit"]["value"] < cat["committed_limit"]["value"] <= cat["legal_limit"]["value"]
    # the intake form lists exactly the catalogue's materials
    options = form("intake_check.json")["properties"]["materials_received"]["items"]["oneOf"]
    assert [(o["const"], o["title"]) for o in options] == [(m["code"], m["name"]) for m in cat["materials"]]


def test_bpmn_structure() -> None:
    tree = bpmn_tree()
    VALIDATOR.validate(tree, f"{MATTER}.bpmn")  # BPMN 2.0 + spiffworkflow XSD
    p = process()
    assert p.get("isExecutable") == "true"
    (participant,) = tree.xpath("//bpmn:collaboration/bpmn:participant", namespaces=NS)
    assert participant.get("processRef") == MATTER
    ids = tree.xpath("//bpmn:*/@id | //bpmndi:*/@id", namespaces=NS)
    assert len(ids) == len(set(ids))
    assert not {"Start", "End"} & set(ids), "ids Start/End collide with SpiffWorkflow internals"

    # one lane per former department, top to bottom in the order the applicant visited them
    lanes = [lane.get("name") for lane in p.xpath(".//bpmn:lane", namespaces=NS)]
    assert lanes == [COMMERCE, INVESTMENT, FINANCE]
    assert set(lanes) <= {s["name"] for s in bureau()["sections"]}
    assert "统一受理窗口" not in lanes and "统一出证窗口" not in lanes  # no one window before the reform

    lane = lane_of(p)
    nodes = {n.attrib["id"]: n for n in flow_nodes(p)}
    for nid, node in nodes.items():
        assert nid in lane, f"{nid} is in no lane"
        for dept in DEPARTMENTS:
            if nid.removeprefix("Task_").removeprefix("Gateway_").removeprefix("EndEvent_").startswith(dept):
                assert lane[nid] == LANE_OF_DEPARTMENT[dept], nid
        tag = etree.QName(node).localname
        forking = len(node.xpath("bpmn:outgoing", namespaces=NS)) > 1
        if tag != "exclusiveGateway" or forking:
            assert node.get("name"), f"{nid} has no name"
    # serial: no parallel or inclusive gateway anywhere
    assert not p.xpath("bpmn:parallelGateway | bpmn:inclusiveGateway", namespaces=NS)

    # each department: its own intake (the set of materials again), review and decision, with the shared forms
    expected = {
        "Commerce": ("lead_review.json",),
        "Investment": ("co_review.json",),
        "Finance": ("co_review.json",),
    }
    for dept, (review_form,) in expected.items():
        for step, form_name in (
            ("Intake", "intake_check.json"),
            ("Review", review_form),
            ("Decision", "decision.json"),
        ):
            node = nodes[f"Task_{dept}{step}"]
            assert etree.QName(node).localname == "userTask"
            assert properties(node)["formJsonSchemaFilename"] == form_name

    milestones: dict[str, list[str]] = {}
    for nid, node in nodes.items():
        props = properties(node)
        tag = etree.QName(node).localname
        if tag == "userTask":
            assert (FORMS / props["formJsonSchemaFilename"]).is_file(), props
        if "milestone" in props:
            milestones.setdefault(props["milestone"], []).append(nid)
        if tag == "serviceTask":
            (op,) = node.xpath("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS)
            assert (op.get("id"), op.get("resultVariable")) == ("share_result", "share_receipt")
        for script in node.xpath("bpmn:script/text() | .//spiffworkflow:postScript/text()", namespaces=NS):
            check_script(script)
    assert milestones == {
        "accepted": ["Task_CommerceAccept"],  # the case starts at the first department only
        "supplement_requested": ["Task_CommerceSupplement"],
        "refused_acceptance": ["Task_CommerceRefuseAcceptance"],
        "rejected": ["Task_CommerceDeliverRefusal", "Task_InvestmentDeliverRefusal", "Task_FinanceDeliverRefusal"],
        "approved": ["Task_FinanceSeal"],
        "issued": ["Task_FinanceIssue"],
    }
    assert etree.QName(nodes["Task_CommerceAccept"]).localname == "scriptTask"

    # each department's decision gateway: approve goes on, refuse ends the case
    flows = {f.get("id"): f for f in p.xpath("bpmn:sequenceFlow", namespaces=NS)}
    for dept in DEPARTMENTS:
        gw = nodes[f"Gateway_{dept}Decision"]
        assert gw.get("default") is None
        conditions = {}
        for fid in gw.xpath("bpmn:outgoing/text()", namespaces=NS):
            (cond,) = flows[fid].xpath("bpmn:conditionExpression/text()", namespaces=NS)
            check_expression(cond)
            conditions[cond] = flows[fid].get("targetRef")
        assert conditions['decision == "refuse"'] == f"Task_{dept}DeliverRefusal"
    for dept_name, nxt in (("Commerce", "Task_CommerceSeal"), ("Investment", "Task_FinanceIntake")):
        gw_node = nodes[f"Gateway_{dept_name}Decision"]
        targets = {flows[f].get("targetRef") for f in gw_node.xpath("bpmn:outgoing/text()", namespaces=NS)}
        assert nxt in targets
    for ref in ("Task_CommerceDeliverRefusal", "Task_InvestmentDeliverRefusal", "Task_FinanceDeliverRefusal"):
        (out,) = nodes[ref].xpath("bpmn:outgoing/text()", namespaces=NS)
        assert etree.QName(nodes[flows[out].get("targetRef")]).localname == "endEvent"
    # the hand-offs between departments
    hand_offs = {
        (f.get("sourceRef"), f.get("targetRef"))
        for f in flows.values()
        if lane[f.get("sourceRef")] != lane[f.get("targetRef")]
    }
    assert hand_offs == {
        ("Task_CommerceSeal", "Task_InvestmentIntake"),
        ("Gateway_InvestmentDecision", "Task_FinanceIntake"),
    }


def test_bpmn_diagram_interchange() -> None:
    tree = bpmn_tree()
    p = process()
    diagram = spiff_support.Diagram(tree)
    box = diagram.box
    lanes = spiff_support.lane_ids(p)
    lane = lane_of(p)
    px, py, pw, ph = box(tree.xpath("//bpmn:participant/@id", namespaces=NS)[0])
    lane_boxes = [box(lanes[name]) for name in (COMMERCE, INVESTMENT, FINANCE)]
    assert lane_boxes[0][1] == py and lane_boxes[-1][1] + lane_boxes[-1][3] == py + ph
    assert all(px < x and x + w == px + pw for x, _, w, _ in lane_boxes), "lanes fill the pool after its header"
    for (x1, y1, w1, h1), (x2, y2, w2, _) in itertools.pairwise(lane_boxes):
        assert y1 + h1 == y2 and (x1, w1) == (x2, w2), "lanes are stacked without gaps"
    node_boxes = {}
    for node in flow_nodes(p):
        nid = node.get("id")
        assert nid is not None and nid in diagram.shapes, f"{nid} has no shape"
        x, y, w, h = node_boxes[nid] = box(nid)
        lx, ly, lw, lh = box(lanes[lane[nid]])
        assert lx < x and x + w < lx + lw and ly < y and y + h < ly + lh, f"{nid} is outside its lane"
    for (a, (ax, ay, aw, ah)), (b, (bx, by, bw, bh)) in itertools.combinations(node_boxes.items(), 2):
        assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, f"{a} overlaps {b}"
    for flow in p.xpath("bpmn:sequenceFlow", namespaces=NS):
        points = diagram.waypoints(flow.get("id"))
        assert len(points) >= 2
        for (ax, ay), (bx, by) in itertools.pairwise(points):
            assert ax == bx or ay == by, f"{flow.get('id')}: edges are orthogonal"
        # the edge starts on its source's border and ends on its target's
        for (x, y), ref in ((points[0], flow.get("sourceRef")), (points[-1], flow.get("targetRef"))):
            sx, sy, sw, sh = node_boxes[ref]
            assert sx <= x <= sx + sw and sy <= y <= sy + sh, f"{flow.get('id')} is detached from {ref}"
            assert x in (sx, sx + sw) or y in (sy, sy + sh), f"{flow.get('id')} does not touch {ref}'s border"


# ------------------------------------------------------------------------------------------ running


APPLICANT = spiff_support.FI_SAMPLE_APPLICANT


class Run(spiff_support.SpiffRun):
    """Drive one workflow; record which manual tasks became READY (with their lanes), completions, milestones."""

    def __init__(self, answers: Answers) -> None:
        start = {"applicant": dict(APPLICANT), "matter": spiff_support.matter_data(MATTER, catalogue())}
        super().__init__(spiff_support.specs(BPMN, MATTER), start, answers)
        self.became_ready: list[tuple[str, str]] = []

    def _record(self, ready: list[Any]) -> None:
        assert len(ready) <= 1, "a serial process has one open task at a time"
        self.became_ready += [(t.task_spec.name, t.task_spec.lane) for t in ready]

    def next_task(self) -> Any:
        (task,) = self.ready()
        return task

    @property
    def lanes_visited(self) -> list[str]:
        """The departments the applicant went through, in order (consecutive steps in one lane count once)."""
        return [lane for lane, _ in itertools.groupby(lane for _, lane in self.became_ready)]


ALL = ["M01", "M02", "M03", "M04", "M05", "M06"]
INTAKE = {"materials_received": ALL, "negative_list": False, "intake_remarks": "材料齐全"}
APPROVE = {"decision": "approve"}
COMMERCE_SEAL = {"seal_no": "510107-01"}
FINANCE_SEAL = {"seal_no": "510107-03"}
REFUSAL = {"delivery": "window", "id_checked": True, "delivered_on": "2026-03-20"}


def commerce_answers(intake: dict[str, Any] = INTAKE) -> Answers:
    return {
        "Task_CommerceIntake": [intake],
        "Task_CommerceReview": [{"review_opinion": "符合设立条件。", "conditions_met": True}],
        "Task_CommerceDecision": [APPROVE],
        "Task_CommerceSeal": [COMMERCE_SEAL],
    }


INVESTMENT_APPROVES: Answers = {
    "Task_InvestmentIntake": [INTAKE],  # the applicant hands in the whole set again
    "Task_InvestmentReview": [{"co_opinion": "投资项目符合产业导向,同意。", "co_agree": True}],
    "Task_InvestmentDecision": [APPROVE],
}
FINANCE_APPROVES: Answers = {
    "Task_FinanceIntake": [INTAKE],  # … and a third time
    "Task_FinanceReview": [{"co_opinion": "出资安排符合规定,同意。", "co_agree": True}],
    "Task_FinanceDecision": [APPROVE],
    "Task_FinanceSeal": [FINANCE_SEAL],
    "Task_FinanceIssue": [{"delivery": "window", "id_checked": True}],
}
DEPARTMENT_STEPS = {
    COMMERCE: ["Task_CommerceIntake", "Task_CommerceReview", "Task_CommerceDecision", "Task_CommerceSeal"],
    INVESTMENT: ["Task_InvestmentIntake", "Task_InvestmentReview", "Task_InvestmentDecision"],
    FINANCE: ["Task_FinanceIntake", "Task_FinanceReview", "Task_FinanceDecision", "Task_FinanceSeal"],
}


def test_happy_path_goes_through_three_departments_in_turn() -> None:
    run = Run({**commerce_answers(), **INVESTMENT_APPROVES, **FINANCE_APPROVES}).run()
    assert run.became_ready == [
        *((t, COMMERCE) for t in DEPARTMENT_STEPS[COMMERCE]),
        *((t, INVESTMENT) for t in DEPARTMENT_STEPS[INVESTMENT]),
        *((t, FINANCE) for t in DEPARTMENT_STEPS[FINANCE]),
        ("Task_FinanceIssue", FINANCE),
    ]
    assert run.lanes_visited == [COMMERCE, INVESTMENT, FINANCE]
    # three intakes, but the case is accepted once: at the first department
    assert [t for t in run.completed if t.endswith("Intake")] == [
        "Task_CommerceIntake",
        "Task_InvestmentIntake",
        "Task_FinanceIntake",
    ]
    assert run.milestones == ["accepted", "approved", "issued"]
    assert run.completed.index("Task_CommerceAccept") < run.completed.index("Task_CommerceReview")
    assert run.engine.calls == [("Task_ShareResult", "share_result", {"outcome": "approved"})]
    assert run.wf.is_completed() and "EndEvent_Completed" in run.completed
    data = run.end_data("EndEvent_Completed")
    assert data["missing_materials"] == []
    assert data["accepted_materials"] == ALL
    assert data["share_receipt"] == "ok"
    # each department's own result survives the next department's forms
    assert data["commerce_approval"] == {"department": "commerce", "decision": "approve"}
    assert data["investment_review"] == {
        "section": "investment",
        "opinion": "投资项目符合产业导向,同意。",
        "agree": True,
    }
    assert data["finance_review"] == {"section": "finance", "opinion": "出资安排符合规定,同意。", "agree": True}
    assert data["seal_no"] == FINANCE_SEAL["seal_no"]


def test_refusal_at_the_second_department_ends_the_case() -> None:
    run = Run(
        {
            **commerce_answers(),
            **INVESTMENT_APPROVES,
            "Task_InvestmentReview": [{"co_opinion": "投资项目不符合产业导向。", "co_agree": False}],
            "Task_InvestmentDecision": [{"decision": "refuse", "decision_reasons": "投资项目不符合本区产业导向。"}],
            "Task_InvestmentDeliverRefusal": [REFUSAL],
        }
    ).run()
    assert run.became_ready == [
        *((t, COMMERCE) for t in DEPARTMENT_STEPS[COMMERCE]),
        *((t, INVESTMENT) for t in DEPARTMENT_STEPS[INVESTMENT]),
        ("Task_InvestmentDeliverRefusal", INVESTMENT),
    ]
    assert run.lanes_visited == [COMMERCE, INVESTMENT]  # never reaches finance
    assert run.milestones == ["accepted", "rejected"]
    assert not any(t.startswith("Task_Finance") for t in run.completed)
    assert run.engine.calls == []
    assert run.wf.is_completed() and "EndEvent_InvestmentRefused" in run.completed
    data = run.end_data("EndEvent_InvestmentRefused")
    assert data["commerce_approval"] == {
        "department": "commerce",
        "decision": "approve",
    }  # the first department had already approved
    assert data["decision"] == "refuse"


@pytest.mark.parametrize("department", [COMMERCE, FINANCE])
def test_refusal_at_the_first_or_last_department_ends_the_case(department: str) -> None:
    dept = {COMMERCE: "Commerce", FINANCE: "Finance"}[department]
    answers: Answers = {**commerce_answers(), **INVESTMENT_APPROVES, **FINANCE_APPROVES}
    answers[f"Task_{dept}Decision"] = [{"decision": "refuse", "decision_reasons": "不符合法定条件。"}]
    answers[f"Task_{dept}DeliverRefusal"] = [
        {**REFUSAL, "delivery": "express", "courier": "顺丰速运", "express_no": "SF1234567890"}
    ]
    visited = [COMMERCE] if department == COMMERCE else [COMMERCE, INVESTMENT, FINANCE]
    for later in itertools.chain.from_iterable(
        DEPARTMENT_STEPS[d] for d in (COMMERCE, INVESTMENT, FINANCE) if d not in visited
    ):
        answers.pop(later)
    answers.pop(f"Task_{dept}Seal")
    answers.pop("Task_FinanceIssue")
    run = Run(answers).run()
    assert run.lanes_visited == visited
    assert run.became_ready[-2:] == [(f"Task_{dept}Decision", department), (f"Task_{dept}DeliverRefusal", department)]
    assert run.milestones == ["accepted", "rejected"]
    assert f"EndEvent_{dept}Refused" in run.completed
    assert run.engine.calls == []


def test_missing_material_is_supplemented_at_the_first_department_only() -> None:
    run = Run(
        {
            **commerce_answers({"materials_received": ["M01", "M02", "M04", "M06"], "negative_list": False}),
            "Task_CommerceSupplement": [
                {
                    "supplemented_materials": ["M03"],
                    "supplement_note": "一次性告知:补交经公证认证的投资者主体资格证明。",
                }
            ],
            **INVESTMENT_APPROVES,
            **FINANCE_APPROVES,
        }
    ).run()
    assert run.became_ready[:3] == [
        ("Task_CommerceIntake", COMMERCE),
        ("Task_CommerceSupplement", COMMERCE),
        ("Task_CommerceReview", COMMERCE),
    ]
    assert run.lanes_visited == [COMMERCE, INVESTMENT, FINANCE]
    assert run.milestones == ["supplement_requested", "accepted", "approved", "issued"]
    assert run.completed.count("Task_CommerceCompareMaterials") == 2
    assert run.completed.index("Task_CommerceMergeSupplement") < run.completed.index("Task_CommerceAccept")
    assert run.end_data("EndEvent_Completed")["accepted_materials"] == ["M01", "M02", "M03", "M04", "M06"]


def test_negative_list_is_not_accepted() -> None:
    run = Run(
        {
            "Task_CommerceIntake": [{"materials_received": ["M01"], "negative_list": True}],
            "Task_CommerceRefuseAcceptance": [{"reasons": "属于负面清单。"}],
        }
    ).run()
    assert run.became_ready == [("Task_CommerceIntake", COMMERCE), ("Task_CommerceRefuseAcceptance", COMMERCE)]
    assert run.milestones == ["refused_acceptance"]
    assert "EndEvent_CommerceRefusedAcceptance" in run.completed
    assert "Task_CommerceAccept" not in run.completed
    assert run.engine.calls == []


def test_application_sample_matches_the_application_form() -> None:
    schema = form(catalogue()["application_form"])
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(APPLICANT)
