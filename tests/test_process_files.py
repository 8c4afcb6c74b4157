"""The shipped process files: bureau.toml, the matter catalogues, the BPMN diagrams and the forms.

These tests check that the files are consistent with each other and that each BPMN runs end to end in raw
SpiffWorkflow (no database, no engine services) along the happy path, a supplement (补正) loop, a refusal
and (foreign investment) a 不予受理 for the negative list and an overdue co-review (逾期未反馈视为同意).
Only the engine's script engine, clock, working calendar and clocked timers are borrowed from onewindow. The
loaders, XML helpers and the workflow driver shared with test_scenario_files.py are in spiff_support.py.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR
from SpiffWorkflow.util.task import TaskState

from onewindow.engine._bpmn.timers import next_timer_at

from . import spiff_support
from .spiff_support import FORMS, NS, PROCESSES, Answers, bureau, flow_nodes, form, lane_of, properties

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

MILESTONES = {"accepted", "supplement_requested", "refused_acceptance", "approved", "rejected", "issued", "terminated"}
STEP_LIMIT = re.compile(r"^\d+(\.\d+)? (working_days|natural_days|working_hours)$")
# Builtins a BPMN script or condition may use (the engine runs them with a short list of builtins).
SIMPLE_BUILTINS = {
    "len",
    "list",
    "dict",
    "set",
    "sorted",
    "any",
    "all",
    "min",
    "max",
    "sum",
    "str",
    "int",
    "bool",
}

MATTERS = sorted(p.stem for p in PROCESSES.glob("*.bpmn"))


# ------------------------------------------------------------------------------------------ loading


def catalogue(matter: str) -> dict[str, Any]:
    return spiff_support.read_toml(PROCESSES / f"{matter}.toml")


def bpmn_tree(matter: str) -> etree._ElementTree:
    return spiff_support.bpmn_tree(PROCESSES / f"{matter}.bpmn")


def executable_process(matter: str) -> etree._Element:
    return spiff_support.executable_process(bpmn_tree(matter), catalogue(matter)["process_id"])


def section_names() -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in bureau()["sections"]}


# ------------------------------------------------------------------------------------------ bureau.toml


def test_bureau_sections_departments_and_staff() -> None:
    b = bureau()
    assert b["bureau"]["division_code"] == "510107"
    assert b["bureau"]["name"] == "成都市武侯区行政审批局"
    sections = {s["code"]: s for s in b["sections"]}
    assert set(sections) == {
        "window", "commerce", "investment", "finance", "market", "project", "evaluation", "inspection", "issuing",
    }  # fmt: skip
    assert len({s["name"] for s in b["sections"]}) == len(sections)
    kinds = {"intake_window", "approval_section", "inspection_centre", "evaluation_centre", "issuing_window"}
    for s in b["sections"]:
        assert re.fullmatch(r"[a-z][a-z_]*", s["code"])
        assert s["kind"] in kinds
        if s["kind"] == "approval_section":
            assert re.fullmatch(r"510107-\d{2}", s["seal_no"]), s
        else:
            assert s["seal_no"] == ""
    seals = [s["seal_no"] for s in b["sections"] if s["seal_no"]]
    assert len(seals) == len(set(seals))
    assert {d["code"] for d in b["departments"]} == {
        "commerce_bureau", "market_regulation", "investment_promotion", "finance_bureau", "health_commission",
        "development_reform",
    }  # fmt: skip

    staff = b["staff"]
    assert len({m["user"] for m in staff}) == len(staff)
    for m in staff:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", m["user"])
        assert m["role"] in {"clerk", "chief", "admin", "supervisor"}
        assert set(m["sections"]) <= set(sections), m
        if m["role"] == "supervisor":  # a supervising department's staff: its department, no section
            assert m["sections"] == [] and m["department"] in {d["code"] for d in b["departments"]}, m
    covered = {c for m in staff for c in m["sections"]}
    assert covered == set(sections), "every section needs at least one clerk"
    assert any(len(m["sections"]) >= 2 for m in staff), "一人多专: someone works in two sections"
    assert any(m["role"] == "admin" for m in staff)
    assert any(m["role"] == "supervisor" for m in staff), "an inbox department needs a supervisor"
    for code, s in sections.items():
        if s["kind"] == "approval_section":
            chiefs = [m for m in staff if m["role"] == "chief" and code in m["sections"]]
            assert len(chiefs) == 1, f"approval section {code} needs exactly one chief"


# ------------------------------------------------------------------------------------------ catalogues


@pytest.mark.parametrize("matter", MATTERS)
def test_catalogue_fields(matter: str) -> None:
    cat = catalogue(matter)
    sections = {s["code"] for s in bureau()["sections"]}
    assert len(cat["code"]) <= 10
    assert len(cat["implementation_code"]) <= 24
    assert cat["implementation_code"].startswith(bureau()["bureau"]["division_code"])
    assert cat["matter_type"] in {f"{i:02d}" for i in range(1, 11)} | {"20"}
    assert cat["handling_type"] in {"immediate", "committed"}
    assert cat["process_id"] == matter
    assert cat["implementing_body"] == bureau()["bureau"]["name"]
    limits = ("legal_limit", "committed_limit") if cat["legal_limit"] != "none" else ("committed_limit",)
    for key in limits:
        assert cat[key]["unit"] in {"working_days", "natural_days", "working_hours"}
        assert cat[key]["value"] > 0
    if cat["legal_limit"] != "none":
        assert cat["committed_limit"]["value"] <= cat["legal_limit"]["value"]
    # every legal limit names where it comes from: the article, or no single limit and each part's law
    assert "第" in cat["legal_limit_basis"] or cat["legal_limit"] == "none"
    assert cat["lead_section"] in sections
    assert set(cat["co_sections"]) <= sections
    assert cat["lead_section"] not in cat["co_sections"]
    assert cat["supervising_department"] in {d["code"] for d in bureau()["departments"]}
    assert (FORMS / cat["application_form"]).is_file()
    assert cat["acceptance_conditions"] and all(isinstance(c, str) and c for c in cat["acceptance_conditions"])
    assert set(cat["handling_forms"]) <= {"1", "2", "3", "4"}
    assert isinstance(cat["fee"]["charged"], bool)
    codes = [m["code"] for m in cat["materials"]]
    assert len(codes) == len(set(codes))
    assert 4 <= len(codes) <= 8
    for m in cat["materials"]:
        assert m["name"] and m["issuer"]
        assert isinstance(m["required"], bool)
        assert m["originals"] >= 0 and m["copies"] >= 0 and m["originals"] + m["copies"] >= 1


def test_catalogue_limits_from_the_seed() -> None:
    fi, er = catalogue("foreign_investment_filing"), catalogue("enterprise_registration")
    assert fi["committed_limit"] == {"value": 7, "unit": "working_days"}
    # No law sets one limit for the joint handling (the seed's 130 working days were elapsed time before the
    # reform): the filing's own 3 working days and the co-reviews' lack of any are listed, each with its law.
    assert fi["legal_limit"] == "none"
    parts = fi["legal_limit_parts"]
    assert parts[0]["limit"] == {"value": 3, "unit": "working_days"} and "商务部令2016年第3号" in parts[0]["basis"]
    assert all("limit" not in p and "无法定时限" in p["basis"] for p in parts[1:])
    assert "行政许可法" not in str(fi)  # a 备案 is no licence
    assert "第十九条" in er["legal_limit_basis"]
    assert (fi["lead_section"], fi["co_sections"]) == ("commerce", ["investment", "finance"])
    assert fi["supervising_department"] == "commerce_bureau"
    assert er["handling_type"] == "immediate"
    assert er["committed_limit"] == {"value": 1, "unit": "working_days"}
    assert er["legal_limit"] == {"value": 3, "unit": "working_days"}
    assert (er["lead_section"], er["co_sections"]) == ("market", [])
    assert er["supervising_department"] == "market_regulation"


# ------------------------------------------------------------------------------------------ forms


@pytest.mark.parametrize("name", sorted(p.name for p in FORMS.glob("*.json")))
def test_form_is_a_draft_2020_12_object_schema(name: str) -> None:
    schema = form(name)
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["title"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) <= set(schema["properties"])
    for key, prop in schema["properties"].items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", key), key
        assert prop.get("title"), f"{name}: property {key} has no title"
        assert prop.get("format") in {None, "uscc", "cn-resident-id", "cn-mobile", "date"}
        for option in prop.get("oneOf", []) + prop.get("items", {}).get("oneOf", []):
            # const + title, and the English of the title (x-title-en) for English pages
            assert set(option) == {"const", "title", "x-title-en"}, f"{name}: {key}: enum options are const + title"
    # if/then only refer to declared properties
    for part in ("if", "then"):
        assert set(schema.get(part, {}).get("properties", {})) <= set(schema["properties"])


@pytest.mark.parametrize("matter", MATTERS)
def test_intake_form_lists_the_catalogue_materials(matter: str) -> None:
    intake = next(
        properties(t)["formJsonSchemaFilename"]
        for t in executable_process(matter).xpath("bpmn:userTask[@id='Task_Intake']", namespaces=NS)
    )
    options = form(intake)["properties"]["materials_received"]["items"]["oneOf"]
    assert [o["const"] for o in options] == [m["code"] for m in catalogue(matter)["materials"]]
    assert [o["title"] for o in options] == [m["name"] for m in catalogue(matter)["materials"]]


# ------------------------------------------------------------------------------------------ BPMN (static)


@pytest.mark.parametrize("matter", MATTERS)
def test_bpmn_structure(matter: str) -> None:
    tree = bpmn_tree(matter)
    VALIDATOR.validate(tree, f"{matter}.bpmn")  # BPMN 2.0 + spiffworkflow XSD
    process = executable_process(matter)
    assert process.get("isExecutable") == "true"
    (participant,) = tree.xpath("//bpmn:collaboration/bpmn:participant", namespaces=NS)
    assert participant.get("processRef") == process.get("id")

    ids = tree.xpath("//bpmn:*/@id | //bpmndi:*/@id", namespaces=NS)  # not spiffworkflow:parameter ids
    assert len(ids) == len(set(ids))
    assert not {"Start", "End"} & set(ids), "ids Start/End collide with SpiffWorkflow internals"

    lanes = lane_of(process)
    sections = section_names()
    nodes = list(flow_nodes(process))
    cat = catalogue(matter)
    approval_lanes = set()
    for node in nodes:
        nid = node.get("id")
        assert nid in lanes, f"{nid} is in no lane"
        assert lanes[nid] in sections, f"lane {lanes[nid]!r} is not a section name in bureau.toml"
        section = sections[lanes[nid]]
        if section["kind"] == "approval_section":
            approval_lanes.add(section["code"])
        tag = etree.QName(node).localname
        # as bpmnlint's label-required: parallel gateways and joining gateways may stay unnamed
        forking = len(node.xpath("bpmn:outgoing", namespaces=NS)) > 1
        if tag != "parallelGateway" and (tag != "exclusiveGateway" or forking):
            assert node.get("name"), f"{nid} has no name"
    assert approval_lanes == {cat["lead_section"], *cat["co_sections"]}

    milestones: list[tuple[str, str]] = []
    for node in nodes:
        props = properties(node)
        tag = etree.QName(node).localname
        if tag == "userTask":
            assert (FORMS / props["formJsonSchemaFilename"]).is_file(), props
        if "stepLimit" in props:
            assert STEP_LIMIT.match(props["stepLimit"]), props["stepLimit"]
        if "milestone" in props:
            assert props["milestone"] in MILESTONES
            milestones.append((props["milestone"], tag))
        if tag == "serviceTask":
            (op,) = node.xpath("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS)
            assert op.get("id") == "share_result"
            assert op.get("resultVariable") == "share_receipt"
        if tag == "scriptTask":
            (script,) = node.xpath("bpmn:script/text()", namespaces=NS)
            check_python(script, "exec")
        for post in node.xpath("bpmn:extensionElements/spiffworkflow:postScript/text()", namespaces=NS):
            check_python(post, "exec")
    assert ("accepted", "scriptTask") in milestones
    assert sorted(m for m, _ in milestones) == sorted(
        ["accepted", "supplement_requested", "approved", "issued", "rejected"]
        + (["refused_acceptance"] if matter == "foreign_investment_filing" else [])
        + (["terminated"] if matter == "food_business_licence" else [])  # 容缺 material never handed in
    )

    # exclusive gateways: every outgoing flow has a Python condition or is the default
    flows = {f.get("id"): f for f in process.xpath("bpmn:sequenceFlow", namespaces=NS)}
    for gw in process.xpath("bpmn:exclusiveGateway", namespaces=NS):
        outgoing = gw.xpath("bpmn:outgoing/text()", namespaces=NS)
        if len(outgoing) < 2:
            continue
        for fid in outgoing:
            cond = flows[fid].xpath("bpmn:conditionExpression", namespaces=NS)
            if fid == gw.get("default"):
                assert not cond
                continue
            assert cond, f"{fid} out of {gw.get('id')} has no condition"
            assert cond[0].get(XSI_TYPE) == "bpmn:tFormalExpression"
            check_python(cond[0].text, "eval")


def check_python(source: str, mode: str) -> None:
    tree = ast.parse(source.strip(), mode=mode)
    for node in ast.walk(tree):
        assert not isinstance(node, ast.Import | ast.ImportFrom), source
        assert not (isinstance(node, ast.Attribute) and node.attr.startswith("_")), source
        if isinstance(node, ast.Name) and hasattr(builtins, node.id):
            assert node.id in SIMPLE_BUILTINS, f"builtin {node.id} in {source!r}"


@pytest.mark.parametrize("matter", MATTERS)
def test_bpmn_diagram_interchange(matter: str) -> None:
    tree = bpmn_tree(matter)
    process = executable_process(matter)
    diagram = spiff_support.Diagram(tree)
    box = diagram.box
    lanes = spiff_support.lane_ids(process)
    lane_of_node = lane_of(process)
    px, py, pw, ph = box(tree.xpath("//bpmn:participant/@id", namespaces=NS)[0])
    lane_boxes = sorted(box(lid) for lid in lanes.values())
    for (_, y1, _, h1), (_, y2, _, _) in itertools.pairwise(lane_boxes):
        assert y1 + h1 == y2, "lanes are stacked without gaps"
    for node in flow_nodes(process):
        nid = node.get("id")
        assert nid is not None and nid in diagram.shapes, f"{nid} has no shape"
        host = node.get("attachedToRef")
        if host:  # a boundary event's centre lies on its host's border
            x, y, w, h = box(nid)
            hx, hy, hw, hh = box(host)
            cx, cy = x + w / 2, y + h / 2
            assert hx <= cx <= hx + hw and hy <= cy <= hy + hh, f"{nid} is off its task"
            assert cx in (hx, hx + hw) or cy in (hy, hy + hh), f"{nid} is not on its task's border"
        x, y, w, h = box(nid)
        lx, ly, lw, lh = box(lanes[lane_of_node[nid]])
        assert lx < x and x + w < lx + lw and ly < y and y + h < ly + lh, f"{nid} is outside its lane"
        assert px < x and x + w < px + pw and py < y and y + h < py + ph
    for flow in process.xpath("bpmn:sequenceFlow", namespaces=NS):
        points = diagram.waypoints(flow.get("id"))
        assert len(points) >= 2
        for (ax, ay), (bx, by) in itertools.pairwise(points):
            assert ax == bx or ay == by, f"{flow.get('id')}: edges are orthogonal"


# ------------------------------------------------------------------------------------------ BPMN (running)


# ACCEPTED_AT is Monday 2026-03-02 10:00 China time: a co-review started then is overdue after 17:30 on Thursday
# 2026-03-05.
CO_REVIEW_DUE = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)

APPLICANTS = {
    "foreign_investment_filing": spiff_support.FI_SAMPLE_APPLICANT,
    "enterprise_registration": {
        "enterprise_name": "成都武侯示例餐饮管理有限公司",
        "enterprise_type": "limited_liability",
        "registered_capital": 50,
        "address": "成都市武侯区示例路1号",
        "business_scope": "餐饮管理;餐饮服务",
        "legal_rep_name": "王五",
        "legal_rep_id_number": "11010519491231002X",
        "legal_rep_mobile": "13700137000",
    },
    "food_business_licence": {
        "applicant_name": "成都武侯示例餐饮管理有限公司",
        "contact_name": "王五",
        "contact_mobile": "13700137000",
        "application_summary": "新办食品经营许可:餐饮服务(热食类食品制售)",
    },
    "public_place_hygiene_licence": {
        "applicant_name": "成都武侯示例宾馆有限公司",
        "contact_name": "赵六",
        "contact_mobile": "13600136000",
        "application_summary": "新办公共场所卫生许可:住宿场所",
    },
    "enterprise_investment_approval": {
        "applicant_name": "成都武侯示例实业有限公司",
        "contact_name": "张三",
        "contact_mobile": "13800138000",
        "application_summary": "新建厂房项目核准",
    },
    "individual_business_registration": json.loads(
        (PROCESSES / "examples" / "individual_business_registration.applicant.json").read_text("utf-8")
    ),
}


class Run(spiff_support.SpiffRun):
    """Drive one workflow; record which manual tasks became READY (grouped), completions and milestones."""

    def __init__(self, matter: str, answers: Answers, order: Callable[[str], int] | None = None) -> None:
        cat = catalogue(matter)
        start = {"applicant": dict(APPLICANTS[matter]), "matter": spiff_support.matter_data(matter, cat)}
        super().__init__(spiff_support.specs(PROCESSES / f"{matter}.bpmn", cat["process_id"]), start, answers)
        self.order = order or (lambda name: 0)
        self.became_ready: list[set[tuple[str, str]]] = []
        self._seen: set[Any] = set()

    def _record(self, ready: list[Any]) -> None:
        fresh = {(t.task_spec.name, t.task_spec.lane) for t in ready if t.id not in self._seen}
        self._seen |= {t.id for t in ready}
        if fresh:
            self.became_ready.append(fresh)

    def next_task(self) -> Any:
        ready = sorted(self.ready(), key=lambda t: (self.order(t.task_spec.name), t.task_spec.name))
        assert ready, f"no ready user task, but the workflow is not complete (done: {self.completed})"
        return ready[0]


WINDOW, COMMERCE, INVESTMENT, FINANCE, MARKET, ISSUING = (
    "统一受理窗口", "商务审批科", "投资促进审批科", "财政审批科", "市场准入审批科", "统一出证窗口",
)  # fmt: skip

FI_ALL = ["M01", "M02", "M03", "M04", "M05", "M06"]
CO_REVIEW = {"co_opinion": "同意备案。", "co_agree": True}
FI_REVIEW = {
    "Task_LeadReview": [{"review_opinion": "材料齐全,不涉及负面清单,符合备案条件。", "conditions_met": True}],
    "Task_InvestmentCoReview": [{"co_opinion": "投资者主体资格证明经公证认证,同意。", "co_agree": True}],
    "Task_FinanceCoReview": [CO_REVIEW],
}
SEAL = {"seal_no": "510107-01"}
ISSUE = {"delivery": "window", "id_checked": True}
REFUSAL = {"delivery": "express", "courier": "顺丰速运", "express_no": "SF1234567890",
           "delivered_on": "2026-10-13"}  # fmt: skip

FI_REVIEW_GROUP = {
    ("Task_LeadReview", COMMERCE),
    ("Task_InvestmentCoReview", INVESTMENT),
    ("Task_FinanceCoReview", FINANCE),
}
CO_TIMERS = {"Timer_InvestmentCoReviewOverdue", "Timer_FinanceCoReviewOverdue"}


def test_foreign_investment_happy_path() -> None:
    # co-reviews finish first; the lead's own review last, so the join has to wait for it
    order = {"Task_InvestmentCoReview": 0, "Task_FinanceCoReview": 1, "Task_LeadReview": 2}
    run = Run(
        "foreign_investment_filing",
        {
            "Task_Intake": [{"materials_received": FI_ALL, "negative_list": False, "intake_remarks": "材料齐全"}],
            **FI_REVIEW,
            "Task_LeadDecision": [{"decision": "approve"}],
            "Task_Seal": [SEAL],
            "Task_Issue": [{**ISSUE, "delivery": "express", "courier": "顺丰速运", "express_no": "SF0000000001"}],
        },
        order=lambda n: order.get(n, 0),
    ).run()
    assert run.became_ready == [
        {("Task_Intake", WINDOW)},
        FI_REVIEW_GROUP,
        {("Task_LeadDecision", COMMERCE)},
        {("Task_Seal", COMMERCE)},
        {("Task_Issue", ISSUING)},
    ]
    assert run.milestones == ["accepted", "approved", "issued"]
    assert run.completed.index("Task_LeadReview") < run.completed.index("Task_LeadDecision")
    assert run.engine.calls == [("Task_ShareResult", "share_result", {"outcome": "approved"})]
    assert "EndEvent_Completed" in run.completed
    data = run.end_data("EndEvent_Completed")
    assert data["missing_materials"] == []
    assert data["accepted_materials"] == FI_ALL
    assert data["share_receipt"] == "ok"
    # both co-review opinions survive the parallel join (the form keys themselves collide)
    opinion = FI_REVIEW["Task_InvestmentCoReview"][0]["co_opinion"]
    assert data["investment_review"] == {"section": "investment", "opinion": opinion, "agree": True}
    assert data["finance_review"] == {"section": "finance", "opinion": "同意备案。", "agree": True}
    assert data["applicant"]["enterprise_name"] == "成都锦程示例科技有限公司"
    # both co-reviews came back in time: their overdue timers were withdrawn, no consent was deemed
    assert run.timers(TaskState.CANCELLED) == CO_TIMERS
    assert not run.timers(TaskState.WAITING) and not run.timers(TaskState.COMPLETED)
    assert not {"Task_InvestmentDeemedConsent", "Task_FinanceDeemedConsent"} & set(run.completed)


def test_foreign_investment_join_waits_for_every_branch() -> None:
    run = Run(
        "foreign_investment_filing",
        {"Task_Intake": [{"materials_received": FI_ALL, "negative_list": False}], **FI_REVIEW},
        order=lambda n: {"Task_LeadReview": 0, "Task_InvestmentCoReview": 1}.get(n, 2),
    )
    run._engine()
    run.step()  # intake
    assert {t.task_spec.name for t in run.ready()} == {n for n, _ in FI_REVIEW_GROUP}
    # acceptance starts both co-reviews and their overdue timers: 3 working days, until Thursday 17:30
    assert run.timers(TaskState.WAITING) == CO_TIMERS
    assert next_timer_at(run.wf) == CO_REVIEW_DUE
    run.step()  # lead review
    run.step()  # investment co-review
    assert [t.task_spec.name for t in run.ready()] == ["Task_FinanceCoReview"]
    assert run.timers(TaskState.WAITING) == {"Timer_FinanceCoReviewOverdue"}
    assert run.timers(TaskState.CANCELLED) == {"Timer_InvestmentCoReviewOverdue"}
    run.step()  # finance co-review
    assert [t.task_spec.name for t in run.ready()] == ["Task_LeadDecision"]
    assert run.timers(TaskState.CANCELLED) == CO_TIMERS
    assert next_timer_at(run.wf) is None


def test_foreign_investment_overdue_co_review_is_deemed_consent() -> None:
    opinion = FI_REVIEW["Task_InvestmentCoReview"][0]
    run = Run(
        "foreign_investment_filing",
        {
            "Task_Intake": [{"materials_received": FI_ALL, "negative_list": False}],
            **FI_REVIEW,
            "Task_FinanceCoReview": [],  # finance never answers
            "Task_LeadDecision": [{"decision": "approve"}],
            "Task_Seal": [SEAL],
            "Task_Issue": [ISSUE],
        },
        order=lambda n: {"Task_InvestmentCoReview": 0, "Task_LeadReview": 2}.get(n, 1),
    )
    run._engine()
    run.step()  # intake, accepted on Monday 2026-03-02 10:00 China time
    assert run.step() == "Task_InvestmentCoReview"  # answered in time
    assert run.timers(TaskState.WAITING) == {"Timer_FinanceCoReviewOverdue"}

    run.tick(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))  # Thursday 17:00: half an hour left
    assert {t.task_spec.name for t in run.ready()} == {"Task_LeadReview", "Task_FinanceCoReview"}
    assert run.timers(TaskState.WAITING) == {"Timer_FinanceCoReviewOverdue"}
    assert "Task_FinanceDeemedConsent" not in run.completed

    run.tick(datetime(2026, 3, 5, 10, 0, tzinfo=UTC))  # Thursday 18:00: overdue
    assert run.timers(TaskState.COMPLETED) == {"Timer_FinanceCoReviewOverdue"}
    assert run.wf.get_tasks(spec_name="Task_FinanceCoReview", state=TaskState.CANCELLED)
    assert not run.wf.get_tasks(spec_name="Task_FinanceCoReview", state=TaskState.COMPLETED)
    assert "Task_FinanceDeemedConsent" in run.completed
    assert "Task_InvestmentDeemedConsent" not in run.completed
    # the join still waits for the lead's own review, which has no deadline of its own here
    assert [t.task_spec.name for t in run.ready()] == ["Task_LeadReview"]
    assert next_timer_at(run.wf) is None

    assert run.step() == "Task_LeadReview"
    assert [t.task_spec.name for t in run.ready()] == ["Task_LeadDecision"]
    (decision,) = run.ready()
    assert decision.data["finance_review"] == {
        "section": "finance",
        "opinion": "逾期未反馈,视为同意",
        "agree": True,
        "deemed": True,
    }
    assert decision.data["investment_review"] == {
        "section": "investment",
        "opinion": opinion["co_opinion"],
        "agree": True,
    }
    run.run()
    assert run.milestones == ["accepted", "approved", "issued"]
    assert run.became_ready[-3:] == [
        {("Task_LeadDecision", COMMERCE)},
        {("Task_Seal", COMMERCE)},
        {("Task_Issue", ISSUING)},
    ]
    data = run.end_data("EndEvent_Completed")
    assert data["finance_review"]["deemed"] is True
    assert "deemed" not in data["investment_review"]


def test_foreign_investment_one_missing_material_then_supplement() -> None:
    run = Run(
        "foreign_investment_filing",
        {
            # M05 (授权委托书) is optional; M03 (投资者主体资格证明) is required and missing
            "Task_Intake": [{"materials_received": ["M01", "M02", "M04", "M06"], "negative_list": False}],
            "Task_Supplement": [
                {
                    "supplemented_materials": ["M03"],
                    "supplement_note": "一次性告知:补交经公证认证的投资者主体资格证明。",
                }
            ],
            **FI_REVIEW,
            "Task_LeadDecision": [{"decision": "approve", "decision_reasons": ""}],
            "Task_Seal": [SEAL],
            "Task_Issue": [ISSUE],
        },
    ).run()
    assert run.became_ready == [
        {("Task_Intake", WINDOW)},
        {("Task_Supplement", WINDOW)},
        FI_REVIEW_GROUP,
        {("Task_LeadDecision", COMMERCE)},
        {("Task_Seal", COMMERCE)},
        {("Task_Issue", ISSUING)},
    ]
    assert run.milestones == ["supplement_requested", "accepted", "approved", "issued"]
    assert run.completed.count("Task_CompareMaterials") == 2
    assert run.completed.index("Task_MergeSupplement") < run.completed.index("Task_Accept")
    data = run.end_data("EndEvent_Completed")
    assert data["missing_materials"] == []
    assert data["materials_received"] == ["M01", "M02", "M04", "M06", "M03"]
    assert data["accepted_materials"] == ["M01", "M02", "M03", "M04", "M06"]


def test_foreign_investment_supplement_twice() -> None:
    run = Run(
        "foreign_investment_filing",
        {
            "Task_Intake": [{"materials_received": ["M01"], "negative_list": False}],
            "Task_Supplement": [
                {"supplemented_materials": ["M02", "M03"]},
                {"supplemented_materials": ["M04", "M06", "M02"]},
            ],
            **FI_REVIEW,
            "Task_LeadDecision": [{"decision": "approve"}],
            "Task_Seal": [SEAL],
            "Task_Issue": [ISSUE],
        },
    ).run()
    assert run.milestones == [
        "supplement_requested",
        "supplement_requested",
        "accepted",
        "approved",
        "issued",
    ]
    assert run.end_data("EndEvent_Completed")["materials_received"] == ["M01", "M02", "M03", "M04", "M06"]


def test_foreign_investment_refusal() -> None:
    run = Run(
        "foreign_investment_filing",
        {
            "Task_Intake": [{"materials_received": FI_ALL, "negative_list": False}],
            "Task_LeadReview": [{"review_opinion": "经营范围与备案申报表不一致。", "conditions_met": False}],
            "Task_InvestmentCoReview": [{"co_opinion": "不同意。", "co_agree": False}],
            "Task_FinanceCoReview": [CO_REVIEW],
            "Task_LeadDecision": [{"decision": "refuse", "decision_reasons": "申报事项与实际经营范围不符。"}],
            "Task_DeliverRefusal": [REFUSAL],
        },
    ).run()
    assert run.became_ready == [
        {("Task_Intake", WINDOW)},
        FI_REVIEW_GROUP,
        {("Task_LeadDecision", COMMERCE)},
        {("Task_DeliverRefusal", ISSUING)},
    ]
    assert run.milestones == ["accepted", "rejected"]
    assert "Task_Seal" not in run.completed
    assert run.engine.calls == [("Task_ShareRefusal", "share_result", {"outcome": "rejected"})]
    assert "EndEvent_Refused" in run.completed
    assert run.end_data("EndEvent_Refused")["share_receipt"] == "ok"


def test_foreign_investment_negative_list_is_not_accepted() -> None:
    # even with materials missing, the negative list wins: 不予受理, no supplement
    run = Run(
        "foreign_investment_filing",
        {
            "Task_Intake": [{"materials_received": ["M01"], "negative_list": True}],
            "Task_RefuseAcceptance": [{"reasons": "属于负面清单,不适用备案。"}],
        },
    ).run()
    assert run.became_ready == [{("Task_Intake", WINDOW)}, {("Task_RefuseAcceptance", WINDOW)}]
    assert run.milestones == ["refused_acceptance"]
    assert "EndEvent_RefusedAcceptance" in run.completed
    assert "Task_Accept" not in run.completed
    assert run.engine.calls == []


ER_ALL = ["M01", "M02", "M03", "M04", "M05"]
ER_REVIEW = {
    "Task_FormalReview": [
        {
            "name_checked": True,
            "address_checked": True,
            "scope_checked": True,
            "review_opinion": "符合法定形式。",
        }
    ]
}
LICENCE = {"delivery": "window", "id_checked": True}


def test_enterprise_registration_happy_path() -> None:
    run = Run(
        "enterprise_registration",
        {
            "Task_Intake": [{"materials_received": ER_ALL}],
            **ER_REVIEW,
            "Task_RegistrationDecision": [{"decision": "approve"}],
            "Task_Seal": [{"seal_no": "510107-04"}],
            "Task_IssueLicence": [LICENCE],
        },
    ).run()
    assert run.became_ready == [
        {("Task_Intake", WINDOW)},
        {("Task_FormalReview", MARKET)},
        {("Task_RegistrationDecision", MARKET)},
        {("Task_Seal", MARKET)},
        {("Task_IssueLicence", ISSUING)},
    ]
    assert run.milestones == ["accepted", "approved", "issued"]
    assert run.engine.calls == [("Task_ShareResult", "share_result", {"outcome": "approved"})]
    data = run.end_data("EndEvent_Registered")
    assert data["share_receipt"] == "ok"
    assert data["accepted_materials"] == ER_ALL


def test_enterprise_registration_one_missing_material_then_supplement() -> None:
    run = Run(
        "enterprise_registration",
        {
            "Task_Intake": [{"materials_received": ["M01", "M02", "M03", "M05"], "intake_remarks": "缺住所证明"}],
            "Task_Supplement": [{"supplemented_materials": ["M04"]}],
            **ER_REVIEW,
            "Task_RegistrationDecision": [{"decision": "approve"}],
            "Task_Seal": [{"seal_no": "510107-04"}],
            "Task_IssueLicence": [LICENCE],
        },
    ).run()
    assert run.became_ready == [
        {("Task_Intake", WINDOW)},
        {("Task_Supplement", WINDOW)},
        {("Task_FormalReview", MARKET)},
        {("Task_RegistrationDecision", MARKET)},
        {("Task_Seal", MARKET)},
        {("Task_IssueLicence", ISSUING)},
    ]
    assert run.milestones == ["supplement_requested", "accepted", "approved", "issued"]
    assert run.end_data("EndEvent_Registered")["missing_materials"] == []


def test_enterprise_registration_refusal() -> None:
    run = Run(
        "enterprise_registration",
        {
            "Task_Intake": [{"materials_received": ER_ALL}],
            **ER_REVIEW,
            "Task_RegistrationDecision": [{"decision": "refuse", "decision_reasons": "企业名称与已登记名称相同。"}],
            "Task_DeliverRefusal": [{**REFUSAL, "delivery": "window", "id_checked": True, "express_no": ""}],
        },
    ).run()
    assert run.became_ready == [
        {("Task_Intake", WINDOW)},
        {("Task_FormalReview", MARKET)},
        {("Task_RegistrationDecision", MARKET)},
        {("Task_DeliverRefusal", ISSUING)},
    ]
    assert run.milestones == ["accepted", "rejected"]
    assert run.engine.calls == [("Task_ShareRefusal", "share_result", {"outcome": "rejected"})]
    assert "EndEvent_Refused" in run.completed


@pytest.mark.parametrize("matter", MATTERS)
def test_application_sample_matches_the_application_form(matter: str) -> None:
    schema = form(catalogue(matter)["application_form"])
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(APPLICANTS[matter])


def test_decision_form_needs_reasons_for_a_refusal() -> None:
    validator = Draft202012Validator(form("decision.json"))
    assert validator.is_valid({"decision": "approve"})
    assert not validator.is_valid({"decision": "refuse"})
    assert not validator.is_valid({"decision": "refuse", "decision_reasons": ""})
    assert validator.is_valid({"decision": "refuse", "decision_reasons": "理由"})
    assert not validator.is_valid({"decision": "maybe"})
    issue = Draft202012Validator(form("issue.json"))
    assert not issue.is_valid({"delivery": "express"})
    assert issue.is_valid({"delivery": "express", "courier": "顺丰速运", "express_no": "SF1"})
