"""Diagrams from other modellers bind to the bureau with a lane map only: ``[lanes]`` in the catalogue maps
lane ids or names to sections; an unmapped lane is explained with a block to paste; a user task without a
lane goes to the lead section and one without a form gets the generic opinion form (warnings, not errors).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from onewindow.cli.main import cli
from onewindow.engine import Engine, FixedClock
from onewindow.engine._store.db import Database

from .designer_support import Node, catalogue, process_xml, write

MIWG = next(
    (
        p / "corpus" / "miwg" / "bpmn.io_Camunda_Modeler_18.6.1"
        for p in (Path(__file__).resolve().parents[2] / "shared", Path("/work/shared"))
        if (p / "corpus" / "miwg").is_dir()
    ),
    None,
)
needs_corpus = pytest.mark.skipif(MIWG is None, reason="no BPMN MIWG corpus beside the repository")


@pytest.fixture
def bare_engine(database_url: str, clock: FixedClock) -> Iterator[Engine]:
    engine = Engine(Database(database_url), clock=clock)
    engine.db.upgrade()
    yield engine
    engine.close()


def run_to_end(engine: Engine, case_no: str, users: dict[str, str]) -> list[tuple[str, str | None]]:
    """Complete every open task, as a member of its section, until the case is finished; returns the
    (task name, section) pairs in the order done."""
    done: list[tuple[str, str | None]] = []
    for _ in range(20):
        view = engine.cases.show(case_no)
        if not view.open_tasks:
            break
        for task in view.open_tasks:
            data = {"opinion": "同意", "agree": True} if task.form == "generic_opinion.json" else {}
            engine.tasks.complete(task.id, user=users[task.section or ""], data=data)
            done.append((task.name, task.section))
    return done


USERS = {"commerce": "zhangwei", "finance": "zhaomin", "investment": "chenjie"}


@needs_corpus
@pytest.mark.parametrize(
    ("export", "lanes", "sections"),
    [
        ("A.4.0-export.bpmn", {}, {"commerce"}),  # no lanes: every task goes to the lead section
        ("A.4.1-export.bpmn", {"Lane 1": "finance"}, {"finance"}),  # by lane name
        ("A.4.1-export.bpmn", {"Lane_198nahk": "investment"}, {"investment"}),  # by lane id
    ],
)
def test_modeler_exports_deploy_with_a_lane_map_and_run_to_the_end(
    bare_engine: Engine, tmp_path: Path, export: str, lanes: dict[str, str], sections: set[str]
) -> None:
    assert MIWG is not None
    source = MIWG / export
    shutil.copy(source, tmp_path / "modelled.bpmn")
    ids = [pid for pid in ("Process_0elb8rq", "Process_0h42ymn") if pid in source.read_text("utf-8")]
    write(tmp_path, "modelled.toml", catalogue(ids[0], lanes=lanes))
    report = bare_engine.repository.check(tmp_path)
    assert report.problems == [], [str(p) for p in report.problems]
    [outcome] = bare_engine.repository.deploy(tmp_path, actor="designer")
    assert outcome.matter_key == "modelled" and outcome.changed
    case = bare_engine.cases.start("modelled", {"applicant_name": "某某公司"}, actor="lijing")
    done = run_to_end(bare_engine, case.case_no, USERS)
    assert [name for name, _ in done] == ["Task 1", "Task 2"]
    assert {section for _, section in done} == sections
    view = bare_engine.cases.show(case.case_no)
    assert view.summary.status == "approved" and not view.open_tasks
    assert view.summary.applicant_name == "某某公司"


def _diagram(tmp_path: Path, *, lane_names: dict[str, str]) -> Path:
    nodes = [
        Node("Start", "startEvent"),
        Node("Review", name="Review", lane="Lane_A"),
        Node("Approve", name="Approve", lane="Lane_B", props={"formJsonSchemaFilename": "decision.json"}),
        Node("Outside", name="Outside any lane"),
        Node("Done", "endEvent"),
    ]
    nodes[0].id, nodes[-1].id = "Ev_Start", "Ev_Done"
    return write(tmp_path, "own.bpmn", process_xml("own_process", nodes, lanes=lane_names))


def test_unmapped_lanes_are_explained_with_sections_and_a_block_to_paste(bare_engine: Engine, tmp_path: Path) -> None:
    _diagram(tmp_path, lane_names={"Lane_A": "Finance Approval", "Lane_B": "Head &quot;office&quot;"})
    write(tmp_path, "own.toml", catalogue("own_process"))
    result = CliRunner().invoke(cli, ["--database", bare_engine.db.url, "deploy", "--check", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'own.bpmn'}:")
    assert ": Lane_A: lane 'Finance Approval' names no section: map it in the [lanes] table of own.toml; " in lines[0]
    assert "商务审批科 (commerce)" in lines[0] and "财政审批科 (finance)" in lines[0]
    assert ": Lane_B: lane 'Head \"office\"' names no section" in lines[1]
    block = lines[lines.index("[lanes]") - 1 :]
    assert block[0].startswith(f"# add to {tmp_path / 'own.toml'} (one of: window, commerce, investment, finance")
    assert block[1:] == ["[lanes]", '"Finance Approval" = ""', '"Head \\"office\\"" = ""']
    assert not any(line.startswith("ok:") for line in lines)
    # The block, filled in and pasted, is valid TOML that binds the lanes.
    text = (tmp_path / "own.toml").read_text("utf-8")
    pasted = "\n".join(block[1:]).replace('= ""', '= "finance"', 1).replace('= ""', '= "commerce"')
    (tmp_path / "own.toml").write_text(text + "\n" + pasted + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--database", bare_engine.db.url, "deploy", "--check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"ok: {tmp_path / 'own.bpmn'} (own: 测试事项)"]
    assert "Outside any lane' is in no lane: it goes to the lead section 'commerce'" in result.stderr
    assert "user task 'Review' names no form" in result.stderr and "generic opinion form" in result.stderr


def test_laneless_task_goes_to_the_lead_and_formless_one_gets_the_generic_form(
    bare_engine: Engine, tmp_path: Path
) -> None:
    _diagram(tmp_path, lane_names={"Lane_A": "Finance Approval", "Lane_B": "Head"})
    write(tmp_path, "own.toml", catalogue("own_process", lanes={"Lane_A": "finance", "Head": "投资促进审批科"}))
    bare_engine.repository.deploy(tmp_path)
    case = bare_engine.cases.start("own", {"applicant_name": "某某公司"})
    [review] = bare_engine.cases.show(case.case_no).open_tasks
    assert (review.section, review.form) == ("finance", "generic_opinion.json")
    schema = bare_engine.tasks.form_schema(review.id)
    assert schema is not None and schema["required"] == ["opinion", "agree"]
    bare_engine.tasks.complete(review.id, user="zhaomin", data={"opinion": "无异议", "agree": True})
    [approve] = bare_engine.cases.show(case.case_no).open_tasks
    assert (approve.section, approve.form) == ("investment", "decision.json")
    bare_engine.tasks.complete(approve.id, user="chenjie", data={"decision": "approve"})
    [outside] = bare_engine.cases.show(case.case_no).open_tasks
    assert (outside.name, outside.section, outside.form) == ("Outside any lane", "commerce", "generic_opinion.json")


def test_a_lane_mapped_to_no_section_and_a_map_naming_no_lane(bare_engine: Engine, tmp_path: Path) -> None:
    _diagram(tmp_path, lane_names={"Lane_A": "Finance Approval", "Lane_B": "Head"})
    write(
        tmp_path, "own.toml", catalogue("own_process", lanes={"Lane_A": "treasury", "Head": "commerce", "X": "finance"})
    )
    report = bare_engine.repository.check(tmp_path)
    assert [(p.element, p.message.split(";")[0]) for p in report.problems] == [
        ("lanes.Lane_A", "lane 'Lane_A' is mapped to 'treasury', which is no section"),
        ("Lane_A", "lane 'Finance Approval' names no section: map it in the [lanes] table of own.toml"),
    ]
    assert any(w.element == "lanes" and "maps 'X', which is no lane of own.bpmn" in w.message for w in report.warnings)


def test_deploy_path_reads_the_bureau_and_forms_beside_it(bare_engine: Engine, tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[1]
    folder = tmp_path / "processes"
    folder.mkdir()
    bureau = (
        (shipped / "processes" / "bureau.toml").read_text("utf-8").replace('name = "财政审批科"', 'name = "预算科"')
    )
    write(folder, "bureau.toml", bureau)
    (tmp_path / "forms").mkdir()
    shutil.copy(shipped / "forms" / "decision.json", tmp_path / "forms" / "decision.json")
    shutil.copy(shipped / "forms" / "generic_opinion.json", tmp_path / "forms" / "generic_opinion.json")
    _diagram(folder, lane_names={"Lane_A": "预算科", "Lane_B": "商务审批科"})
    write(folder, "own.toml", catalogue("own_process"))
    result = CliRunner(env={"ONEWINDOW_FORMS": ""}).invoke(
        cli, ["--database", bare_engine.db.url, "deploy", str(folder)]
    )
    assert result.exit_code == 0, result.output
    assert f"read: bureau {folder / 'bureau.toml'}; forms {tmp_path / 'forms'}" in result.stderr
    assert result.stdout.strip() == "deployed: own v1 (测试事项)"
    (tmp_path / "forms" / "decision.json").unlink()  # now only the installed forms have it: not read
    result = CliRunner(env={"ONEWINDOW_FORMS": ""}).invoke(
        cli, ["--database", bare_engine.db.url, "deploy", "--check", str(folder)]
    )
    assert result.exit_code == 1
    assert f"form 'decision.json' ({tmp_path / 'forms' / 'decision.json'})" in result.stdout
