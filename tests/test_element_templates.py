"""Camunda Modeler element templates: valid by Camunda's schema, and what they write deploys and runs."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree

from onewindow.engine import CaseStatus, Engine, FixedClock, scaffold_matter
from onewindow.engine._bpmn.extensions import ENGINE_PROPERTIES
from onewindow.engine._bpmn.safe_xml import parse_xml_bytes
from onewindow.engine._store.db import Database

from .helpers import open_tasks

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "processes" / "element-templates" / "onewindow.json"
SCHEMA = Path(__file__).parent / "data" / "element-templates-json-schema" / "schema.json"
# Saved by bpmn-js with bpmn-js-element-templates after applying the templates (docs/element-templates/).
TEMPLATED = Path(__file__).parent / "data" / "element_templates" / "food_licence.bpmn"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
APPLICANT = {"applicant_name": "成都某某食品有限公司", "contact_name": "王五", "contact_mobile": "13800138000"}


def _templates() -> list[dict[str, Any]]:
    data = json.loads(TEMPLATES.read_text("utf-8"))
    assert isinstance(data, list)
    return data


def _errors(templates: Any) -> list[str]:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    return [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(templates)]


def test_templates_follow_camundas_element_template_schema() -> None:
    templates = _templates()
    assert _errors(templates) == []
    ids = [t["id"] for t in templates]
    assert len(ids) == len(set(ids))
    assert {
        "onewindow.SectionReviewTask",
        "onewindow.CoReviewTask",
        "onewindow.DeemedConsentTimer",
        "onewindow.SealTask",
        "onewindow.IssueTask",
        "onewindow.ShareResult",
        "onewindow.PatternCall",
    } <= set(ids)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda t: t[0]["properties"][0].pop("binding"),
        lambda t: t[0]["properties"][0]["binding"].update(type="zeebe:taskDefinition"),
        lambda t: t[0].pop("appliesTo"),
        lambda t: t[0]["properties"][2].pop("choices"),
    ],
)
def test_the_schema_catches_a_broken_template(breakage: Any) -> None:
    broken = copy.deepcopy(_templates())
    breakage(broken)
    assert _errors(broken) != []


def test_templates_bind_only_what_the_engine_reads() -> None:
    properties: set[str] = set()
    inputs: set[str] = set()
    attributes: set[str] = set()
    for template in _templates():
        for prop in template["properties"]:
            binding = prop["binding"]
            {"camunda:property": properties, "camunda:inputParameter": inputs, "property": attributes}[
                binding["type"]
            ].add(binding["name"])
    assert properties <= set(ENGINE_PROPERTIES)
    assert inputs == {"outcome"}  # the share_result operator's one parameter
    assert attributes <= {"camunda:formKey", "name", "cancelActivity", "scriptFormat", "script", "calledElement"}
    readme = (ROOT / "README.md").read_text("utf-8")
    for name in ENGINE_PROPERTIES:
        assert f"| `{name}` |" in readme, f"README's extension property table lacks {name}"


def test_camunda_properties_read_as_spiffworkflow_ones() -> None:
    xml = b"""<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
        xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
        xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d">
      <bpmn:process id="p" isExecutable="true">
        <bpmn:userTask id="a"><bpmn:extensionElements>
          <spiffworkflow:properties>
            <spiffworkflow:property name="stepLimit" value="2 working_days"/></spiffworkflow:properties>
          <camunda:properties>
            <camunda:property name="stepLimit" value="9 working_days"/>
            <camunda:property name="milestone" value=""/>
            <camunda:property name="simDuration" value="fixed(1) working_hours"/>
          </camunda:properties></bpmn:extensionElements></bpmn:userTask>
        <bpmn:boundaryEvent id="t" attachedToRef="a"><bpmn:extensionElements><camunda:properties>
            <camunda:property name="timeDuration" value="3 working_days"/></camunda:properties></bpmn:extensionElements>
          <bpmn:timerEventDefinition/></bpmn:boundaryEvent>
        <bpmn:boundaryEvent id="own" attachedToRef="a"><bpmn:extensionElements><camunda:properties>
            <camunda:property name="timeDuration" value="3 working_days"/></camunda:properties></bpmn:extensionElements>
          <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
        <bpmn:serviceTask id="s"><bpmn:extensionElements>
          <camunda:inputOutput>
            <camunda:inputParameter name="outcome">rejected</camunda:inputParameter></camunda:inputOutput>
          <camunda:properties><camunda:property name="operator" value="share_result"/></camunda:properties>
        </bpmn:extensionElements></bpmn:serviceTask>
      </bpmn:process></bpmn:definitions>"""
    root = parse_xml_bytes(xml, filename="t.bpmn").getroot()

    def props(node_id: str) -> dict[str, str]:
        node = root.find(f".//*[@id='{node_id}']")
        assert node is not None
        return {p.get("name", ""): p.get("value", "") for p in node.iter(f"{SPIFF}property")}

    # the diagram's own spiffworkflow:property wins; an emptied field is no property
    assert props("a") == {"stepLimit": "2 working_days", "simDuration": "fixed(1) working_hours"}
    durations = {}
    for event in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}boundaryEvent"):
        for duration in event.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}timeDuration"):
            durations[str(event.get("id"))] = duration.text
    assert durations == {"t": '"3 working_days"', "own": '"P1D"'}
    operator = root.find(f".//{SPIFF}serviceTaskOperator")
    assert operator is not None and operator.get("id") == "share_result"
    assert [(p.get("id"), p.get("value")) for p in operator.iter(f"{SPIFF}parameter")] == [("outcome", '"rejected"')]


def test_a_diagram_templated_in_bpmn_js_deploys_and_runs(tmp_path: Path, database_url: str, clock: FixedClock) -> None:
    templated = [
        e for e in etree.parse(str(TEMPLATED)).iter() if e.get("{http://camunda.org/schema/1.0/bpmn}modelerTemplate")
    ]
    assert len(templated) == 13
    for element in templated:  # the templates' camunda extensions alone carry what onewindow reads
        assert list(element.iter(f"{SPIFF}property")) == [] and list(element.iter(f"{SPIFF}serviceTaskOperator")) == []
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    scaffold_matter(
        "food_licence", name="食品经营许可", template="joint_review", processes_dir=processes, forms_dir=forms
    )
    shutil.copy(TEMPLATED, processes / "food_licence.bpmn")
    engine = Engine(Database(database_url), clock=clock, bureau=processes / "bureau.toml", forms_dir=forms)
    engine.db.upgrade()
    try:
        engine.repository.deploy(processes, actor="designer")
        case_no = engine.cases.start("food_licence", APPLICANT, actor="lijing").case_no

        def complete(bpmn_id: str, user: str, data: dict[str, Any]) -> None:
            engine.tasks.complete(open_tasks(engine, case_no)[bpmn_id].id, user=user, data=data)

        complete("Task_Intake", "lijing", {"materials_received": ["M01", "M02"]})
        tasks = open_tasks(engine, case_no)
        assert set(tasks) == {"Task_LeadReview", "Task_CoReview_investment", "Task_CoReview_finance"}
        # stepLimit from camunda:property: 3 working days from Monday 2026-03-02 is Thursday 17:30 China time
        assert tasks["Task_CoReview_finance"].due_at == datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
        complete("Task_LeadReview", "zhangwei", {"review_opinion": "符合", "conditions_met": True})
        complete("Task_CoReview_investment", "chenjie", {"co_opinion": "同意", "co_agree": True})
        clock.set(datetime(2026, 3, 5, 10, 0, tzinfo=UTC))  # past the finance co-review's 3 working days
        fired = engine.timers.run_due()
        assert [f.timer_id for f in fired] == ["Timer_CoReviewOverdue_finance"]  # timeDuration from the template
        complete("Task_Decision", "zhangwei", {"decision": "approve"})
        complete("Task_Seal", "zhangwei", {"seal_no": "510107-01"})
        complete("Task_Issue", "wangfang", {"delivery": "window", "id_checked": True})
        view = engine.cases.show(case_no)
        assert view.summary.status == CaseStatus.APPROVED
        assert [e.data["milestone"] for e in view.history if e.kind == "milestone"] == [
            "accepted",
            "approved",
            "issued",
        ]
        shared = [e.data for e in view.history if e.kind == "result_shared"]
        assert [s["outcome"] for s in shared] == ["approved"]  # camunda:inputParameter → operator parameter
    finally:
        engine.close()
