"""``check_bpmn``: every designer-made BPMN file either passes or gets one clear line per problem.

Two halves: the BPMN MIWG corpus (14 modelling tools' exports, /work/shared/corpus/miwg), where no file may
crash the check and known unsupported features must be named precisely; and small inline documents, one
per rule.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from onewindow.cli.main import cli
from onewindow.engine._bpmn.check import CheckResult, check_bpmn
from onewindow.engine._errors import Problem

from .bpmn_documents import GOOD, GOOD_BODY, HEAD, assert_one_line, check, doc, flow, messages

CORPUS = Path("/work/shared/corpus/miwg")
PROCESSES = Path(__file__).resolve().parents[1] / "processes"


# -- the MIWG corpus -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus() -> dict[str, CheckResult]:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is missing")
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".bpmn", ".xml") and p.is_file())
    assert files
    return {str(p.relative_to(CORPUS)): check_bpmn(p) for p in files}


def test_corpus_every_file_passes_or_gets_one_line_per_problem(corpus: dict[str, CheckResult]) -> None:
    for name, result in corpus.items():
        assert result.file == str(CORPUS / name)
        assert result.ok == (not result.problems)
        for problem in result.problems + result.warnings:
            assert_one_line(result, problem)
            assert "internal error" not in problem.message, problem
        if result.ok:
            assert result.parser is not None and result.process_ids, name
            for pid in result.process_ids:
                assert result.parser.get_spec(pid) is not None
        else:
            assert result.problems[0].line is not None, name


def test_corpus_some_files_pass_and_most_are_refused(corpus: dict[str, CheckResult]) -> None:
    passed = {name for name, r in corpus.items() if r.ok}
    assert "bpmn.io_Camunda_Modeler_18.6.1/A.4.0-export.bpmn" in passed
    assert corpus["bpmn.io_Camunda_Modeler_18.6.1/A.4.0-export.bpmn"].process_ids == ["Process_0elb8rq"]
    assert len(passed) < len(corpus) // 2


def _find(result: CheckResult, element: str, text: str) -> Problem:
    found = [p for p in result.problems if p.element == element and text in p.message]
    assert found, f"no problem on {element} saying {text!r} in {[str(p) for p in result.problems]}"
    return found[0]


def test_reference_c_1_0_camunda_expressions_and_service_task(corpus: dict[str, CheckResult]) -> None:
    result = corpus["Reference/C.1.0.bpmn"]
    # <serviceTask id="archiveInvoice" camunda:delegateExpression="#{archiveService}" name="Archive&#xA;Invoice">
    problem = _find(result, "archiveInvoice", "has no spiffworkflow:serviceTaskOperator")
    assert problem.line == 570
    assert 'service task "Archive Invoice"' in problem.message  # the name's line break is folded
    # <conditionExpression>${approved}</conditionExpression> on the flow "yes"
    problem = _find(result, "invoiceApproved", "is not a Python expression")
    assert problem.line == 608 and "${approved}" in problem.message
    _find(result, "invoiceNotApproved", "is not a Python expression")
    assert result.process_ids == ["bpmn-miwg-test-case-c.1.0"]  # the other pool has isExecutable="false"


def test_reference_c_4_0_data_stores(corpus: dict[str, CheckResult]) -> None:
    result = corpus["Reference/C.4.0.bpmn"]
    assert _find(result, "_d367181e-c25a-407e-a5fb-817a27698a30", "data stores are not supported").line == 16
    problem = _find(result, "_f00a95f6-043e-4ec1-8731-153a707e950c", "data stores are not supported")
    assert problem.line == 107 and 'data store reference "Employee Details"' in problem.message
    _find(result, "_788443d9-65f0-43a4-96a8-63e8d6f380a7", "loops but has no loopMaximum")


def test_reference_c_9_0_feel_call_activity_and_error_start(corpus: dict[str, CheckResult]) -> None:
    result = corpus["Reference/C.9.0.bpmn"]
    problem = _find(result, "SequenceFlow_ApplicationAccepted", "is not a Python expression")
    assert "= approved" in problem.message  # Camunda 8's FEEL
    _find(result, "Activity_ManualCheck", 'calls "ManualCheck", which is not a process in this file')
    _find(result, "StartErrorEvent_Timeout", "error event definition on a start event is not supported")
    _find(result, "BusinessRuleTask_CheckApplicationAutomatically", "has no decision reference")
    _find(result, "SendTask_ReportFraud", 'send task "Report fraud" has no message')


def test_reference_c_3_0_unquoted_timer_and_empty_subprocess(corpus: dict[str, CheckResult]) -> None:
    result = corpus["Reference/C.3.0.bpmn"]
    problem = _find(result, "Bpmn_BoundaryEvent_sS9gABqGEeWDuOtG0oS24A", "timer duration `PT2H` is not quoted")
    assert problem.line == 422
    _find(result, "_cd6f230f-13c3-4027-aa3e-57de601a1ab2", "must contain exactly one start event, not 0")


def test_reference_diagrams_without_executable_process(corpus: dict[str, CheckResult]) -> None:
    result = corpus["Reference/A.1.0.bpmn"]
    assert [p.message for p in result.problems] == [
        'no executable process: every process (WFP-6-) has isExecutable="false"; '
        'mark the one to run isExecutable="true"'
    ]
    assert result.process_ids == [] and result.parser is None


def test_shipped_processes_pass() -> None:
    files = sorted(PROCESSES.glob("*.bpmn"))
    if not files:
        pytest.skip("no shipped processes yet")
    for path in files:
        result = check_bpmn(path)
        assert result.ok, [str(p) for p in result.problems]


# -- inline documents, one per rule ------------------------------------------------------------------------
def test_good_minimal_process_passes_and_parser_is_reusable() -> None:
    result = check(GOOD)
    assert result.ok, messages(result)
    assert result.warnings == []
    assert result.process_ids == ["p"]
    spec = result.parser.get_spec("p")
    assert {"review", "gw", "fee", "notify", "late"} <= set(spec.task_specs)


def test_malformed_xml_names_the_line() -> None:
    data = (HEAD + '<bpmn:process id="p">\n<bpmn:task id="t">\n</bpmn:process>\n</bpmn:definitions>\n').encode()
    result = check(data)
    assert not result.ok and len(result.problems) == 1
    problem = result.problems[0]
    assert problem.line == 5 and problem.message.startswith("malformed XML")  # </bpmn:process> on line 5
    assert str(problem).startswith("matter.bpmn:5: malformed XML: Opening and ending tag mismatch")


def test_external_entity_is_refused_without_reading_it() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&e;</bpmn:definitions>'
    )
    result = check(data)
    assert [(p.line, "DOCTYPE" in p.message) for p in result.problems] == [(2, True)]
    assert "root:" not in str(result.problems[0])


def test_billion_laughs_is_refused_quickly() -> None:
    lol = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">{lol}]>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;'
        "</bpmn:definitions>"
    ).encode()
    started = time.perf_counter()
    result = check(data)
    assert time.perf_counter() - started < 1
    assert not result.ok and "DOCTYPE/ENTITY" in result.problems[0].message


def test_not_bpmn() -> None:
    result = check(b'<?xml version="1.0"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"/>')
    assert messages(result) == [
        "matter.bpmn:2: definitions: not a BPMN 2.0 file: the root element is <definitions> in namespace "
        '"https://www.omg.org/spec/DMN/20191111/MODEL/", expected <definitions> in '
        "http://www.omg.org/spec/BPMN/20100524/MODEL"
    ]


def test_data_store_reference() -> None:
    body = GOOD_BODY + '\n<bpmn:dataStoreReference id="ds_ref" name="Register" dataStoreRef="ds"/>'
    result = check(doc(body, before='<bpmn:dataStore id="ds" name="Register"/>\n'))
    assert [(p.element, p.line) for p in result.problems] == [("ds", 3), ("ds_ref", 20)]
    assert 'data store reference "Register": data stores are not supported' in result.problems[1].message


def test_service_task_without_operator() -> None:
    operator = (
        '<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="notify_applicant">'
        "<spiffworkflow:parameters/></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>"
    )
    body = GOOD_BODY.replace(operator, "").replace('id="notify"', 'id="notify" name="Notify applicant"')
    result = check(doc(body))
    assert messages(result) == [
        'matter.bpmn:9: notify: service task "Notify applicant" has no spiffworkflow:serviceTaskOperator, '
        "so there is nothing to call"
    ]


def test_gateway_branch_without_condition() -> None:
    result = check(doc(GOOD_BODY.replace(flow("big", "gw", "fee", "amount &gt; 1000"), flow("big", "gw", "fee"))))
    assert messages(result) == [
        'matter.bpmn:14: big: sequence flow leaves the exclusive gateway "Large?" without a condition and is '
        "not the gateway's default flow"
    ]


def test_feel_condition() -> None:
    result = check(doc(GOOD_BODY.replace("amount &gt; 1000", "${amount &gt; 1000}")))
    assert [p.element for p in result.problems] == ["big"]
    assert "condition `${amount > 1000}` is not a Python expression" in result.problems[0].message


def test_no_executable_process() -> None:
    result = check(doc(GOOD_BODY, executable="false"))
    assert [(p.element, p.line) for p in result.problems] == [("Definitions_1", 2)]
    assert result.problems[0].message.startswith("no executable process")
    result = check(
        (
            HEAD + '<bpmn:collaboration id="c"><bpmn:participant id="pa"/></bpmn:collaboration></bpmn:definitions>'
        ).encode()
    )
    assert "the file has no bpmn:process" in result.problems[0].message


def test_missing_is_executable_is_executable_with_a_warning() -> None:
    result = check(doc(GOOD_BODY, executable=None))
    assert result.ok and result.process_ids == ["p"]
    assert "no isExecutable attribute" in result.warnings[0].message


def test_several_executable_pools_warn() -> None:
    second = '<bpmn:process id="q"><bpmn:startEvent id="s2"/></bpmn:process>\n'
    result = check(doc(GOOD_BODY, before=second))
    assert result.ok and result.process_ids == ["q", "p"]
    assert any("2 executable processes that no call activity calls" in w.message for w in result.warnings)


def test_start_and_end_ids_collide_with_spiffworkflow() -> None:
    result = check(doc(GOOD_BODY.replace('"s"', '"Start"')))
    assert [(p.element, p.line) for p in result.problems] == [("Start", 4)]
    assert "collides with a task SpiffWorkflow adds" in result.problems[0].message


def test_unquoted_timer_and_missing_timer_expression() -> None:
    result = check(doc(GOOD_BODY.replace('"P3D"', "P3D")))
    assert [p.element for p in result.problems] == ["late"]
    assert "timer duration `P3D` is not quoted" in result.problems[0].message
    result = check(doc(GOOD_BODY.replace('<bpmn:timeDuration>"P3D"</bpmn:timeDuration>', "")))
    assert "has a timer without a time date, duration or cycle expression" in result.problems[0].message


def test_script_checks() -> None:
    result = check(doc(GOOD_BODY.replace('scriptFormat="python"', 'scriptFormat="javascript"')))
    assert 'has scriptFormat "javascript"' in result.problems[0].message
    result = check(doc(GOOD_BODY.replace("fee = amount * 0.01", "fee = amount *")))
    assert "its script is not valid Python" in result.problems[0].message


def test_unsupported_elements_and_references() -> None:
    body = "\n".join([
        '<bpmn:startEvent id="s"/>',
        '<bpmn:complexGateway id="cx"/>',
        '<bpmn:sendTask id="send" name="Send"/>',
        '<bpmn:callActivity id="call" calledElement="elsewhere"/>',
        '<bpmn:intermediateThrowEvent id="link"><bpmn:linkEventDefinition name="L"/></bpmn:intermediateThrowEvent>',
        '<bpmn:endEvent id="e"/>',
        flow("f1", "s", "cx"), flow("f2", "cx", "send"), flow("f3", "send", "call"),
        flow("f4", "call", "link"), flow("f5", "link", "nowhere"),
    ])  # fmt: skip
    result = check(doc(body))
    found = {(p.element, p.message.split(" ", 2)[-1][:40]) for p in result.problems}
    assert {p.element for p in result.problems} == {"cx", "send", "call", "link", "f5"}, found
    assert any("complex gateway is not supported" in p.message for p in result.problems)
    assert any('"nowhere" is not defined' in p.message for p in result.problems)


def test_nested_data_object_is_refused_instead_of_hanging_spiffworkflow() -> None:
    # SpiffWorkflow's data object resolver loops forever on a data object two scopes up.
    inner = (
        '<bpmn:subProcess id="inner"><bpmn:startEvent id="is"/>'
        '<bpmn:task id="t"><bpmn:dataOutputAssociation id="a"><bpmn:targetRef>ref</bpmn:targetRef>'
        '</bpmn:dataOutputAssociation></bpmn:task><bpmn:endEvent id="ie"/>'
        + flow("i1", "is", "t")
        + flow("i2", "t", "ie")
        + "</bpmn:subProcess>"
    )
    outer = (
        '<bpmn:subProcess id="outer"><bpmn:startEvent id="os"/>'
        + inner
        + '<bpmn:endEvent id="oe"/>'
        + flow("o1", "os", "inner")
        + flow("o2", "inner", "oe")
        + "</bpmn:subProcess>"
    )
    body = (
        '<bpmn:dataObject id="obj"/><bpmn:dataObjectReference id="ref" dataObjectRef="obj"/>'
        '<bpmn:startEvent id="s"/>'
        + outer
        + '<bpmn:endEvent id="e"/>'
        + flow("f1", "s", "outer")
        + flow("f2", "outer", "e")
    )
    box: list[CheckResult] = []
    worker = threading.Thread(target=lambda: box.append(check(doc(body))), daemon=True)
    worker.start()
    worker.join(10)
    assert box, "check_bpmn hung"
    assert [p.element for p in box[0].problems] == ["t"]
    assert "whose data object is not declared" in box[0].problems[0].message


def test_spiffworkflow_refusals_become_one_line_problems() -> None:
    # The rules accept a decision reference; SpiffWorkflow then refuses because no DMN file is loaded.
    body = GOOD_BODY.replace(
        '<bpmn:userTask id="review" name="Review application"/>',
        '<bpmn:businessRuleTask id="review" name="Score"><bpmn:extensionElements>'
        "<spiffworkflow:calledDecisionId>risk</spiffworkflow:calledDecisionId></bpmn:extensionElements>"
        "</bpmn:businessRuleTask>",
    )
    result = check(doc(body))
    assert [(p.element, p.line) for p in result.problems] == [("review", 5)]
    assert result.problems[0].message.startswith('SpiffWorkflow cannot parse business rule task "Score": ')
    assert 'No DMN Diagram available with id "risk"' in result.problems[0].message


def test_never_raises_on_truncated_or_odd_input(tmp_path: Path) -> None:
    for cut in range(0, len(GOOD), 11):
        result = check(GOOD[:cut])
        assert cut >= len(GOOD.rstrip()) or not result.ok
    names = doc(GOOD_BODY.replace('name="Large?"', 'name="Large&#10;or small?"'))
    assert check(names).ok
    missing = check_bpmn(tmp_path / "missing.bpmn")
    assert "cannot read file" in missing.problems[0].message
    assert not check_bpmn(tmp_path).ok  # a directory


def test_check_command_prints_problems_and_summary(tmp_path: Path) -> None:
    (tmp_path / "good.bpmn").write_bytes(GOOD)
    (tmp_path / "bad.bpmn").write_bytes(doc(GOOD_BODY, executable="false"))
    result = CliRunner().invoke(cli, ["check", "--summary", str(tmp_path)])
    assert result.exit_code == 1
    assert str(tmp_path / "bad.bpmn") + ":2: Definitions_1: no executable process" in result.stdout
    assert "good.bpmn" not in result.stdout
    assert "2 files: 1 pass, 1 fail" in result.stderr
    assert CliRunner().invoke(cli, ["check", str(tmp_path / "good.bpmn")]).exit_code == 0
