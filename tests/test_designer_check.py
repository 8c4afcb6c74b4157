"""``onewindow check`` and the checks a designer relies on without a bureau: one line per problem, each
naming an element; onewindow's own properties (milestones, step limits, scripts, starts, DI) checked too;
and a CLI that still works when ``ONEWINDOW_PROCESSES`` names a designer's own folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from onewindow.cli.main import cli
from onewindow.engine import Problem
from onewindow.engine._bpmn.check import problem_kind, summarise

from .bpmn_documents import GOOD, GOOD_BODY, HEAD, check, doc, flow

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def props(**values: str) -> str:
    items = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in values.items())
    return (
        f"<bpmn:extensionElements><spiffworkflow:properties>{items}</spiffworkflow:properties></bpmn:extensionElements>"
    )


# -- onewindow check ---------------------------------------------------------------------------------------
def test_check_exit_codes_and_one_line_per_problem_with_element(tmp_path: Path) -> None:
    good = tmp_path / "good.bpmn"
    good.write_bytes(GOOD)
    assert run_cli("check", str(good))[0] == 0
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(GOOD.replace(b"amount &gt; 1000", b"${amount &gt; 1000}").replace(b'id="Definitions_1" ', b""))
    no_process = tmp_path / "none.bpmn"
    no_process.write_bytes(HEAD.replace('id="Definitions_1" ', "").encode() + b"</bpmn:definitions>\n")
    code, out, _err = run_cli("check", str(good), str(bad), str(no_process))
    assert code == 1
    lines = out.splitlines()
    assert lines == [
        f"{bad}:14: big: sequence flow: condition `${{amount > 1000}}` is not a Python expression (invalid "
        "syntax); SpiffWorkflow evaluates it as Python over the case data",
        f"{no_process}:2: definitions: no executable process: the file has no bpmn:process (a collaboration "
        "or choreography diagram only?)",
    ]


def test_check_json_and_warnings_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "p.bpmn"
    path.write_bytes(doc(GOOD_BODY, executable=None))
    code, out, err = run_cli("check", str(path))
    assert code == 0 and out == ""
    assert f"warning: {path}:3: p: process has no isExecutable attribute" in err
    code, out, err = run_cli("check", "-q", str(path))
    assert code == 0 and err == ""
    code, out, _ = run_cli("check", "--json", str(path))
    assert code == 0 and '"ok": true' in out and '"processes": [\n      "p"\n    ]' in out


def test_shipped_processes_pass_the_check_without_warnings_about_diagrams() -> None:
    code, out, err = run_cli("check", *map(str, sorted(PROCESSES.glob("*.bpmn"))))
    assert code == 0, out
    assert "no shape in the diagram" not in err and "no edge in the diagram" not in err


def test_summary_never_glues_phrases() -> None:
    problem = Problem("f.bpmn", 'send task "approve invoice ”manually”" has no message (messageRef), so …')
    assert problem_kind(problem) == "send task has no message, so …"
    executable = Problem("f.bpmn", 'no executable process: every process (a, b) has isExecutable="false"; mark')
    assert problem_kind(executable) == 'no executable process: every process has isExecutable="false"; mark'
    result = check(
        doc(
            GOOD_BODY.replace(
                '<bpmn:userTask id="review" name="Review application"/>',
                '<bpmn:sendTask id="review" name=\'approve invoice "manually"\'/>',
            )
        )
    )
    kinds = summarise([result])
    assert kinds[0] == "1 files: 0 pass, 1 fail"
    assert any(k.endswith("  send task has no message, so nothing identifies what it sends") for k in kinds), kinds


# -- onewindow's own properties -------------------------------------------------------------------------
def test_misspelt_milestone_and_bad_step_limits_are_errors() -> None:
    body = (
        GOOD_BODY.replace(
            '<bpmn:userTask id="review" name="Review application"/>',
            f'<bpmn:userTask id="review" name="Review application">{props(milestone="accept")}</bpmn:userTask>',
        )
        .replace(
            '<bpmn:endEvent id="e"/>',
            f'<bpmn:endEvent id="e">{props(stepLimit="three days")}</bpmn:endEvent>',
        )
        .replace(
            '<bpmn:endEvent id="e_late"/>',
            f'<bpmn:endEvent id="e_late">{props(stepLimit="0 working_days")}</bpmn:endEvent>',
        )
    )
    result = check(doc(body))
    assert any(
        p.element == "review" and 'milestone "accept" is not one of accepted, supplement_requested' in p.message
        for p in result.problems
    ), [str(p) for p in result.problems]
    assert any(p.element == "e" and "stepLimit: time limit 'three days'" in p.message for p in result.problems)
    assert any(p.element == "e_late" and "must be more than zero" in p.message for p in result.problems)


def test_restricted_script_is_refused_by_check() -> None:
    result = check(doc(GOOD_BODY.replace("fee = amount * 0.01", "import os")))
    assert [(p.element, "script rejected" in p.message) for p in result.problems] == [("fee", True)]


def test_duplicate_data_object_id_is_a_warning_when_spiffworkflow_runs_it() -> None:
    sub = (
        '<bpmn:subProcess id="sub"><bpmn:dataObject id="DO_1" name="fee"/>'
        '<bpmn:startEvent id="ss"/><bpmn:endEvent id="se"/>'
        f"{flow('sf1', 'ss', 'se')}</bpmn:subProcess>"
    )
    body = (
        GOOD_BODY.replace(flow("f4", "notify", "e"), flow("f4", "notify", "sub") + flow("f6", "sub", "e"))
        + '<bpmn:dataObject id="DO_1" name="fee"/>'
        + sub
    )
    result = check(doc(body))
    assert result.ok, [str(p) for p in result.problems]
    assert any(w.element == "DO_1" and "SpiffWorkflow runs it unchanged" in w.message for w in result.warnings)
    clash = check(doc(GOOD_BODY + '<bpmn:dataObject id="fee"/>'))  # a data object reusing a task's id
    assert any(p.element == "fee" and "reuses the id" in p.message for p in clash.problems)


def test_diagram_shapes_are_reported_separately() -> None:
    result = check(GOOD)  # the inline documents have no DI at all
    assert result.ok
    assert {p.element for p in result.diagram} >= {"review", "gw", "f1", "big"}
    assert all("in the diagram (BPMN DI)" in p.message for p in result.diagram)


# -- the message start ---------------------------------------------------------------------------------
MESSAGE = '<bpmn:message id="Msg_apply" name="application"/>\n'


def message_start(sid: str) -> str:
    return f'<bpmn:startEvent id="{sid}"><bpmn:messageEventDefinition messageRef="Msg_apply"/></bpmn:startEvent>'


def test_one_message_start_is_the_windows_start_and_several_are_refused() -> None:
    one = doc(GOOD_BODY.replace('<bpmn:startEvent id="s"/>', message_start("s")), before=MESSAGE)
    result = check(one)
    assert result.ok, [str(p) for p in result.problems]
    assert any(w.element == "s" and "onewindow starts the process there" in w.message for w in result.warnings)
    two = doc(
        GOOD_BODY.replace('<bpmn:startEvent id="s"/>', message_start("s") + message_start("s2"))
        + flow("f0", "s2", "review"),
        before=MESSAGE,
    )
    refused = check(two)
    assert [p.element for p in refused.problems] == ["s"]
    assert "starts only with message start events (s, s2)" in refused.problems[0].message


# -- robustness --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["--help"], ["check", "--help"], ["deploy", "--help"], ["matters", "--help"]])
def test_cli_works_with_a_processes_folder_without_examples(tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "ONEWINDOW_PROCESSES": str(tmp_path), "ONEWINDOW_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    done = subprocess.run(
        [sys.executable, "-m", "onewindow.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Usage:" in done.stdout


def test_deploy_check_without_catalogue_says_what_the_bureau_must_add(tmp_path: Path) -> None:
    source = (PROCESSES / "enterprise_registration.bpmn").read_bytes()
    (tmp_path / "mine.bpmn").write_bytes(source)
    env_db = f"sqlite:///{tmp_path}/x.db"
    result = CliRunner(env={"ONEWINDOW_DATABASE_URL": env_db}).invoke(cli, ["deploy", "--check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{tmp_path / 'mine.bpmn'}: BPMN OK; to deploy it needs: a catalogue mine.toml")
    assert "ok:" not in result.stdout
