"""A matter whose call activity calls a process in another file of the folder: checked across files (lanes
and forms of the called process too), deployed and versioned together, run to the end; a call to a process
that does not exist is refused with a line. And a process whose only start is a message start event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from onewindow.cli.main import cli
from onewindow.engine import Engine, FixedClock
from onewindow.engine._store.db import Database

from .designer_support import Node, catalogue, process_xml, write

GENERIC = {"opinion": "同意", "agree": True}


@pytest.fixture
def bare_engine(database_url: str, clock: FixedClock) -> Iterator[Engine]:
    engine = Engine(Database(database_url), clock=clock)
    engine.db.upgrade()
    yield engine
    engine.close()


def two_files(folder: Path, *, sub_task_name: str = "Finance check", sub_lane: str = "Finance Desk") -> None:
    main = [
        Node("Ev_Start", "startEvent"),
        Node("Intake", name="Intake", lane="Lane_W", props={"milestone": "accepted"}),
        Node("CallReview", "callActivity", name="Joint review", lane="Lane_W", attrs=' calledElement="joint_review"'),
        Node("Decide", name="Decide", lane="Lane_C", props={"formJsonSchemaFilename": "decision.json"}),
        Node("Ev_End", "endEvent"),
    ]
    write(folder, "main.bpmn", process_xml("main_process", main, lanes={"Lane_W": "Window", "Lane_C": "商务审批科"}))
    sub = [
        Node("Sub_Start", "startEvent"),
        Node("Sub_Check", name=sub_task_name, lane="Lane_F"),
        Node("Sub_End", "endEvent"),
    ]
    write(folder, "joint_review.bpmn", process_xml("joint_review", sub, lanes={"Lane_F": sub_lane}))
    write(folder, "main.toml", catalogue("main_process", lanes={"Window": "window", "Finance Desk": "finance"}))


def complete_open(engine: Engine, case_no: str, users: dict[str, str], data: dict[str, dict[str, object]]) -> str:
    [task] = engine.cases.show(case_no).open_tasks
    engine.tasks.complete(task.id, user=users[task.section or ""], data=data.get(task.bpmn_id, GENERIC))
    return f"{task.name}@{task.section}"


USERS = {"window": "lijing", "finance": "zhaomin", "commerce": "zhangwei"}


def test_a_call_into_another_file_deploys_runs_and_versions_together(bare_engine: Engine, tmp_path: Path) -> None:
    two_files(tmp_path)
    result = CliRunner().invoke(cli, ["--database", bare_engine.db.url, "deploy", "--check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"ok: {tmp_path / 'main.bpmn'} (main: 测试事项)",
        f"ok: {tmp_path / 'joint_review.bpmn'} (called by the matters above)",
    ]
    [v1] = bare_engine.repository.deploy(tmp_path)
    assert (v1.matter_key, v1.version) == ("main", 1)
    old_case = bare_engine.cases.start("main", {"applicant_name": "甲公司"}).case_no
    assert complete_open(bare_engine, old_case, USERS, {}) == "Intake@window"
    # The called file changes: the matter gets a new version; the running case stays on the old set.
    two_files(tmp_path, sub_task_name="Budget check")
    [v2] = bare_engine.repository.deploy(tmp_path)
    assert (v2.version, v2.changed) == (2, True)
    assert bare_engine.repository.deploy(tmp_path)[0].changed is False
    assert complete_open(bare_engine, old_case, USERS, {}) == "Finance check@finance"
    decision: dict[str, dict[str, object]] = {"Decide": {"decision": "approve"}}
    assert complete_open(bare_engine, old_case, USERS, decision) == "Decide@commerce"
    view = bare_engine.cases.show(old_case)
    assert view.summary.status == "approved" and view.summary.version == 1
    new_case = bare_engine.cases.start("main", {"applicant_name": "乙公司"}).case_no
    done = [complete_open(bare_engine, new_case, USERS, decision) for _ in range(3)]
    assert done == ["Intake@window", "Budget check@finance", "Decide@commerce"]
    assert bare_engine.cases.show(new_case).summary.version == 2


def test_lanes_and_forms_of_the_called_process_are_checked(bare_engine: Engine, tmp_path: Path) -> None:
    two_files(tmp_path, sub_lane="Treasury")
    report = bare_engine.repository.check(tmp_path)
    assert [(Path(p.file).name, p.element) for p in report.problems] == [("joint_review.bpmn", "Lane_F")]
    assert "lane 'Treasury' names no section: map it in the [lanes] table of main.toml" in report.problems[0].message
    assert any(
        Path(w.file).name == "joint_review.bpmn" and "'Finance check' names no form" in w.message
        for w in report.warnings
    )
    # A single file deploys with its called file from the same folder, and its check says what is wrong there.
    result = CliRunner().invoke(
        cli, ["--database", bare_engine.db.url, "deploy", "--check", str(tmp_path / "main.bpmn")]
    )
    assert result.exit_code == 1 and f"{tmp_path / 'joint_review.bpmn'}:" in result.stdout


def test_a_call_to_a_missing_process_is_refused_with_a_line(bare_engine: Engine, tmp_path: Path) -> None:
    two_files(tmp_path)
    (tmp_path / "joint_review.bpmn").unlink()
    result = CliRunner().invoke(cli, ["--database", bare_engine.db.url, "deploy", "--check", str(tmp_path)])
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert line.startswith(f"{tmp_path / 'main.bpmn'}:")
    assert ': CallReview: call activity "Joint review" calls "joint_review", which is not a process' in line
    checked = CliRunner().invoke(cli, ["check", str(tmp_path / "main.bpmn")])
    assert checked.exit_code == 1 and "CallReview" in checked.stdout


def test_a_called_process_may_not_reuse_an_id_of_the_caller(bare_engine: Engine, tmp_path: Path) -> None:
    two_files(tmp_path)
    text = (tmp_path / "joint_review.bpmn").read_text("utf-8").replace("Sub_Check", "Intake")
    (tmp_path / "joint_review.bpmn").write_text(text, encoding="utf-8")
    problems = bare_engine.repository.check(tmp_path).problems
    assert [(Path(p.file).name, p.element) for p in problems] == [("joint_review.bpmn", "Intake")]
    assert "ids must be unique across the files of one matter" in problems[0].message


MESSAGE = '<bpmn:message id="Msg_apply" name="application"/>\n'


def message_start(sid: str) -> Node:
    return Node(sid, "startEvent", inner='<bpmn:messageEventDefinition messageRef="Msg_apply"/>')


def test_a_process_started_only_by_a_message_starts_at_the_window(bare_engine: Engine, tmp_path: Path) -> None:
    nodes = [message_start("Ev_Msg"), Node("Review", name="Review", lane="L"), Node("Ev_End", "endEvent")]
    write(tmp_path, "msg.bpmn", process_xml("msg_process", nodes, lanes={"L": "商务审批科"}, before=MESSAGE))
    write(tmp_path, "msg.toml", catalogue("msg_process"))
    report = bare_engine.repository.check(tmp_path)
    assert report.problems == []
    assert any(w.element == "Ev_Msg" and "waits for a message" in w.message for w in report.warnings)
    bare_engine.repository.deploy(tmp_path)
    case_no = bare_engine.cases.start("msg", {"applicant_name": "丙公司"}).case_no
    assert complete_open(bare_engine, case_no, USERS, {}) == "Review@commerce"
    assert bare_engine.cases.show(case_no).summary.status == "approved"


def test_two_message_starts_and_no_plain_one_are_refused(bare_engine: Engine, tmp_path: Path) -> None:
    nodes = [message_start("Ev_Msg"), Node("Review", name="Review", lane="L"), Node("Ev_End", "endEvent")]
    text = process_xml("msg_process", nodes, lanes={"L": "商务审批科"}, before=MESSAGE)
    second = '<bpmn:startEvent id="Ev_Msg2"><bpmn:messageEventDefinition messageRef="Msg_apply"/></bpmn:startEvent>'
    text = text.replace(
        "</bpmn:process>", second + '<bpmn:sequenceFlow id="F2" sourceRef="Ev_Msg2" targetRef="Review"/></bpmn:process>'
    )
    write(tmp_path, "msg.bpmn", text)
    write(tmp_path, "msg.toml", catalogue("msg_process"))
    result = CliRunner().invoke(cli, ["--database", bare_engine.db.url, "deploy", "--check", str(tmp_path)])
    assert result.exit_code == 1
    assert ": Ev_Msg: process starts only with message start events (Ev_Msg, Ev_Msg2)" in result.stdout
    assert "ok:" not in result.stdout
