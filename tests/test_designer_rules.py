"""The checks a designer relies on at deploy: milestones and step limits, a diagram shape for every flow node
and flow, forms against the catalogue, unknown catalogue keys, and never an ``ok:`` for a matter with errors.
Plus the catalogue's ``applicant_name_fields`` and bpmnlint on the shipped diagrams."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from onewindow.cli.main import cli
from onewindow.engine import Database, Engine, FixedClock

from .designer_support import Node, catalogue, process_xml, write
from .helpers import BPMNLINT

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def bare_engine(sqlite_url: str, clock: FixedClock) -> Iterator[Engine]:
    engine = Engine(Database(sqlite_url), clock=clock)
    engine.db.upgrade()
    yield engine
    engine.close()


def matter(folder: Path, *, props: dict[str, str] | None = None, form: str = "decision.json", extra: str = "") -> Path:
    nodes = [
        Node("Ev_Start", "startEvent"),
        Node("Review", name="Review", lane="L", props={"formJsonSchemaFilename": form, **(props or {})}),
        Node("Ev_End", "endEvent"),
    ]
    write(folder, "m.toml", catalogue("m_process", extra=extra))
    return write(folder, "m.bpmn", process_xml("m_process", nodes, lanes={"L": "商务审批科"}))


def deploy_check(engine: Engine, path: Path) -> Result:
    return CliRunner().invoke(cli, ["--database", engine.db.url, "deploy", "--check", str(path)])


def test_a_clean_matter_gets_its_ok_line(bare_engine: Engine, tmp_path: Path) -> None:
    matter(tmp_path)
    result = deploy_check(bare_engine, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ok: {tmp_path / 'm.bpmn'} (m: 测试事项)\n"


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"milestone": "accept"}, ': Review: user task "Review": milestone "accept" is not one of accepted,'),
        ({"stepLimit": "3 weeks"}, ": Review: user task \"Review\": stepLimit: time limit '3 weeks'"),
        ({"stepLimit": "-1 working_days"}, ': Review: user task "Review": stepLimit: time limit'),
    ],
)
def test_milestones_and_step_limits_are_validated(
    bare_engine: Engine, tmp_path: Path, props: dict[str, str], expected: str
) -> None:
    path = matter(tmp_path, props=props)
    result = deploy_check(bare_engine, tmp_path)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}:") and expected in result.stdout, result.stdout
    assert "ok:" not in result.stdout


def test_every_flow_node_and_flow_needs_a_shape(bare_engine: Engine, tmp_path: Path) -> None:
    path = matter(tmp_path)
    text = path.read_text("utf-8")
    text = re.sub(r'<bpmndi:BPMNShape id="Review_di".*?</bpmndi:BPMNShape>', "", text)
    text = re.sub(r'<bpmndi:BPMNEdge id="F_Review_Ev_End_di".*?</bpmndi:BPMNEdge>', "", text)
    path.write_text(text, encoding="utf-8")
    result = deploy_check(bare_engine, tmp_path)
    assert result.exit_code == 1
    lines = text.splitlines()
    task_line = next(i for i, line in enumerate(lines, 1) if 'userTask id="Review"' in line)
    flow_line = next(i for i, line in enumerate(lines, 1) if 'sequenceFlow id="F_Review_Ev_End"' in line)
    assert result.stdout.splitlines() == [
        f'{path}:{task_line}: Review: user task "Review" has no shape in the diagram (BPMN DI), so it cannot be drawn',
        f"{path}:{flow_line}: F_Review_Ev_End: sequence flow has no edge in the diagram (BPMN DI), so it cannot be "
        "drawn",
    ]
    assert CliRunner().invoke(cli, ["check", str(path)]).exit_code == 0  # it would run; deploy refuses it


def _form(tmp_path: Path, name: str, schema: dict[str, object]) -> None:
    forms = tmp_path / "forms"
    forms.mkdir(exist_ok=True)
    for shipped in ("decision.json", "generic_opinion.json"):
        shutil.copy(ROOT / "forms" / shipped, forms / shipped)
    (forms / name).write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")


def materials_form(*codes: str) -> dict[str, object]:
    return {
        "type": "object",
        "properties": {
            "materials_received": {
                "type": "array",
                "items": {"type": "string", "oneOf": [{"const": c, "title": c} for c in codes]},
            }
        },
        "required": ["materials_received"],
        "additionalProperties": False,
    }


def test_forms_are_checked_against_the_catalogue(bare_engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "processes"
    folder.mkdir()
    _form(tmp_path, "intake.json", materials_form("M01", "M09"))
    matter(folder, form="intake.json")
    result = deploy_check(bare_engine, folder)
    assert result.exit_code == 1
    intake = tmp_path / "forms" / "intake.json"
    assert result.stdout.splitlines() == [
        f"{intake}: materials_received: 'materials_received' lists material code(s) M09, which the catalogue "
        "of m does not have (its materials: M01)"
    ]
    _form(tmp_path, "intake.json", materials_form("M02"))
    lines = deploy_check(bare_engine, folder).stdout.splitlines()
    assert (
        f"{intake}: materials_received: 'materials_received' does not offer the required material(s) M01 of m" in lines
    )
    schema = materials_form("M01")
    schema["required"] = ["materials_received", "materials_checked"]
    _form(tmp_path, "intake.json", schema)
    result = deploy_check(bare_engine, folder)
    assert result.stdout.splitlines() == [
        f"{intake}: materials_checked: requires 'materials_checked', which is not among its properties, and "
        "additionalProperties is false: no data can ever pass this form"
    ]
    _form(tmp_path, "intake.json", materials_form("M01"))
    assert deploy_check(bare_engine, folder).exit_code == 0


def test_lead_section_without_a_lane_and_unknown_catalogue_keys(bare_engine: Engine, tmp_path: Path) -> None:
    matter(tmp_path, extra='lead_sectoin = "finance"')
    result = deploy_check(bare_engine, tmp_path)
    assert result.exit_code == 1
    assert result.stdout.startswith(
        f"{tmp_path / 'm.toml'}: lead_sectoin: unknown key 'lead_sectoin'; a catalogue knows code, name"
    )
    assert "ok:" not in result.stdout
    toml = (tmp_path / "m.toml").read_text("utf-8").replace('lead_section = "commerce"', 'lead_section = "finance"')
    (tmp_path / "m.toml").write_text(toml.replace('lead_sectoin = "finance"', ""), encoding="utf-8")
    result = deploy_check(bare_engine, tmp_path)
    assert result.exit_code == 0, result.output  # it runs; the lead section just never sees a step
    assert (
        f"warning: {tmp_path / 'm.toml'}: lead_section: lead_section 'finance' has no lane in m.bpmn, so no step "
        "of the matter goes to it (lanes: 商务审批科 → commerce)"
    ) in result.stderr


def test_applicant_name_fields_is_a_catalogue_key(bare_engine: Engine, tmp_path: Path) -> None:
    matter(tmp_path, extra='applicant_name_fields = ["org_name", "person"]')
    bare_engine.repository.deploy(tmp_path)
    case = bare_engine.cases.start("m", {"enterprise_name": "不是这个", "person": "王五"})
    assert case.applicant_name == "王五"
    found = bare_engine.tasks.for_section("commerce")
    assert [t.applicant for t in found] == ["王五"]
    write(tmp_path, "m.toml", catalogue("m_process", extra="applicant_name_fields = []"))
    result = deploy_check(bare_engine, tmp_path)
    assert result.exit_code == 1
    assert (
        "applicant_name_fields: 'applicant_name_fields' must list field names of the application form" in result.stdout
    )


@pytest.mark.skipif(BPMNLINT is None or shutil.which("npm") is None, reason="no bpmnlint tool or npm here")
def test_shipped_diagrams_stay_clean_under_bpmnlint() -> None:
    assert BPMNLINT is not None
    files = sorted(str(p) for p in ROOT.glob("processes/**/*.bpmn"))
    done = subprocess.run([str(BPMNLINT), *files], capture_output=True, text=True, timeout=300, cwd=ROOT)
    if done.returncode != 0 and "npm" in done.stderr and "ERR" in done.stderr:
        pytest.skip(f"bpmnlint could not be installed: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stdout + done.stderr
