"""``onewindow new matter``: the scaffolded files deploy as they are and a case runs to the end."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from onewindow.cli.main import cli
from onewindow.engine import CaseStatus, ConfigError, Engine, FixedClock, scaffold_matter
from onewindow.engine._store.db import Database

from .helpers import BPMNLINT, open_tasks

BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
APPLICANT = {"applicant_name": "成都某某食品有限公司", "contact_name": "王五", "contact_mobile": "13800138000"}


def _scaffold(tmp_path: Path, key: str, template: str, *extra: str) -> tuple[Path, Path]:
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    result = CliRunner().invoke(
        cli,
        [
            "new",
            "matter",
            key,
            "--name",
            "食品经营许可",
            "--template",
            template,
            *extra,
            "--processes",
            str(processes),
            "--forms",
            str(forms),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {processes / (key + '.bpmn')}" in result.output
    return processes, forms


def _engine(url: str, clock: FixedClock, processes: Path, forms: Path) -> Engine:
    engine = Engine(Database(url), clock=clock, bureau=processes / "bureau.toml", forms_dir=forms)
    engine.db.upgrade()
    outcomes = engine.repository.deploy(processes, actor="designer")
    assert [o.changed for o in outcomes] == [True]
    return engine


def _complete(engine: Engine, case_no: str, bpmn_id: str, user: str, data: dict[str, object]) -> None:
    engine.tasks.complete(open_tasks(engine, case_no)[bpmn_id].id, user=user, data=data)


def test_joint_review_scaffold_deploys_and_runs_to_the_end(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    processes, forms = _scaffold(tmp_path, "food_licence", "joint_review", "--lead", "market", "--co", "inspection")
    assert (processes / "bureau.toml").exists()  # a new folder gets the shipped bureau to edit
    tree = etree.parse(str(processes / "food_licence.bpmn"))
    flow_nodes = tree.xpath(
        "//bpmn:process/*[bpmn:incoming or bpmn:outgoing]", namespaces={"bpmn": tree.getroot().nsmap["bpmn"]}
    )
    shapes = {s.get("bpmnElement") for s in tree.iter(f"{BPMNDI}BPMNShape")}
    assert flow_nodes and {n.get("id") for n in flow_nodes} <= shapes  # every node is drawn
    engine = _engine(database_url, clock, processes, forms)
    try:
        case = engine.cases.start("food_licence", APPLICANT, actor="lijing")
        _complete(engine, case.case_no, "Task_Intake", "lijing", {"materials_received": ["M01"]})
        view = engine.cases.show(case.case_no)
        assert view.summary.status == CaseStatus.SUPPLEMENT  # M02 missing: 补正
        _complete(engine, case.case_no, "Task_Supplement", "lijing", {"supplemented_materials": ["M02"]})
        tasks = open_tasks(engine, case.case_no)
        assert set(tasks) == {"Task_LeadReview", "Task_CoReview_inspection"}
        assert tasks["Task_LeadReview"].section == "market"
        assert tasks["Task_CoReview_inspection"].section == "inspection"
        _complete(engine, case.case_no, "Task_LeadReview", "sunli", {"review_opinion": "符合", "conditions_met": True})
        _complete(engine, case.case_no, "Task_CoReview_inspection", "zhoutao", {"co_opinion": "同意", "co_agree": True})
        _complete(engine, case.case_no, "Task_Decision", "sunli", {"decision": "approve"})
        _complete(engine, case.case_no, "Task_Seal", "sunli", {"seal_no": "510107-04"})
        _complete(engine, case.case_no, "Task_Issue", "wangfang", {"delivery": "window", "id_checked": True})
        view = engine.cases.show(case.case_no)
        assert view.summary.status == CaseStatus.APPROVED and view.open_tasks == []
        assert [e.data["milestone"] for e in view.history if e.kind == "milestone"] == [
            "supplement_requested",
            "accepted",
            "approved",
            "issued",
        ]
        assert any(e.kind == "result_shared" for e in view.history)
    finally:
        engine.close()


def test_window_approval_scaffold_refusal_path(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> None:
    processes, forms = _scaffold(tmp_path, "simple_permit", "window_approval")
    engine = _engine(sqlite_url, clock, processes, forms)
    try:
        case = engine.cases.start("simple_permit", APPLICANT, actor="lijing")
        _complete(engine, case.case_no, "Task_Intake", "lijing", {"materials_received": ["M01", "M02"]})
        assert list(open_tasks(engine, case.case_no)) == ["Task_Decision"]
        _complete(
            engine, case.case_no, "Task_Decision", "zhangwei", {"decision": "refuse", "decision_reasons": "不符合条件"}
        )
        _complete(
            engine,
            case.case_no,
            "Task_DeliverRefusal",
            "wangfang",
            {"delivery": "window", "id_checked": True},
        )
        assert engine.cases.show(case.case_no).summary.status == CaseStatus.REJECTED
    finally:
        engine.close()


def test_scaffold_never_overwrites_and_refuses_bad_input(tmp_path: Path) -> None:
    processes, forms = _scaffold(tmp_path, "simple_permit", "window_approval")
    before = {p: p.read_bytes() for p in [*processes.iterdir(), *forms.iterdir()]}
    result = CliRunner().invoke(
        cli,
        ["new", "matter", "simple_permit", "--name", "另一个", "--processes", str(processes), "--forms", str(forms)],
    )
    assert result.exit_code == 1
    assert "already exists; nothing was written" in result.output
    assert {p: p.read_bytes() for p in [*processes.iterdir(), *forms.iterdir()]} == before
    with pytest.raises(ConfigError, match="not an approval section"):
        scaffold_matter(
            "x_permit",
            name="某许可",
            template="window_approval",
            processes_dir=processes,
            forms_dir=forms,
            lead_section="window",
        )
    with pytest.raises(ConfigError, match="matter key"):
        scaffold_matter("Bad-Key", name="某许可", template="window_approval", processes_dir=processes, forms_dir=forms)
    result = CliRunner().invoke(cli, ["new", "matter", "x", "--name", "某", "--template", "nope"])
    assert result.exit_code == 2


@pytest.mark.skipif(shutil.which("npm") is None, reason="bpmnlint needs node and npm")
@pytest.mark.skipif(BPMNLINT is None, reason="the bpmnlint wrapper is not beside the project")
def test_scaffolded_diagrams_are_bpmnlint_clean(tmp_path: Path) -> None:
    processes, _ = _scaffold(tmp_path, "food_licence", "joint_review")
    _scaffold(tmp_path, "simple_permit", "window_approval")
    out = subprocess.run(
        [str(BPMNLINT), str(processes / "food_licence.bpmn"), str(processes / "simple_permit.bpmn")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
