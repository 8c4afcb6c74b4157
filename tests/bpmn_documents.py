"""Small inline BPMN documents for the check tests (one per rule), and a check that holds every problem it
reports to one line naming the file and the element."""

from __future__ import annotations

from pathlib import Path

from onewindow.engine._bpmn.check import CheckResult, check_bpmn_bytes
from onewindow.engine._errors import Problem


def assert_one_line(result: CheckResult, problem: Problem) -> None:
    line = str(problem)
    assert "\n" not in line and "\r" not in line, line
    assert Path(result.file).name in line, line
    if problem.element:
        assert problem.element in line, line
    assert "Traceback" not in line, line


HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="Definitions_1" targetNamespace="http://example.org/bpmn">\n'
)


def doc(body: str, *, executable: str | None = "true", before: str = "") -> bytes:
    attr = f' isExecutable="{executable}"' if executable is not None else ""
    return (HEAD + before + f'<bpmn:process id="p"{attr}>\n{body}\n</bpmn:process>\n</bpmn:definitions>\n').encode()


def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>'
    return (
        f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>"
    )


GOOD_BODY = "\n".join([
    '<bpmn:startEvent id="s"/>',
    '<bpmn:userTask id="review" name="Review application"/>',
    '<bpmn:boundaryEvent id="late" name="3 days" attachedToRef="review"><bpmn:timerEventDefinition>'
    "<bpmn:timeDuration>\"P3D\"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>",
    '<bpmn:exclusiveGateway id="gw" name="Large?" default="small"/>',
    '<bpmn:scriptTask id="fee" scriptFormat="python"><bpmn:script>fee = amount * 0.01</bpmn:script>'
    "</bpmn:scriptTask>",
    '<bpmn:serviceTask id="notify"><bpmn:extensionElements>'
    '<spiffworkflow:serviceTaskOperator id="notify_applicant"><spiffworkflow:parameters/>'
    "</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>",
    '<bpmn:endEvent id="e"/>',
    '<bpmn:endEvent id="e_late"/>',
    flow("f1", "s", "review"),
    flow("f2", "review", "gw"),
    flow("big", "gw", "fee", "amount &gt; 1000"),
    flow("small", "gw", "notify"),
    flow("f3", "fee", "notify"),
    flow("f4", "notify", "e"),
    flow("f5", "late", "e_late"),
])  # fmt: skip
GOOD = doc(GOOD_BODY)


def check(data: bytes) -> CheckResult:
    result = check_bpmn_bytes(data, filename="matter.bpmn")
    for problem in result.problems + result.warnings:
        assert_one_line(result, problem)
    return result


def messages(result: CheckResult) -> list[str]:
    return [str(p) for p in result.problems]
