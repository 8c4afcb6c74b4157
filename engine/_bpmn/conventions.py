"""What onewindow itself reads from a BPMN file, checked without a bureau: milestones, step limits,
scripts under the restricted script engine, how a process starts, and the diagram (DI) of every flow
node and sequence flow.

These belong to ``onewindow check`` as much as SpiffWorkflow's own rules: a misspelt milestone
(``accept`` for ``accepted``) runs, but the legal clock never starts.
"""

from __future__ import annotations

import textwrap

from lxml import etree

from .._errors import ConfigError, Problem
from .._time.case_clock import PAUSE_KINDS
from .._time.workcalendar import parse_limit
from .definitions import APPLICANT_NOTICES, ASSIGNEES, MILESTONES, SPIFF_NS, TASK_CHECKS
from .definitions import _properties as properties
from .rules import BPMN_NS, FLOW_NODES, Findings, describe, is_bpmn, one_line, python_error
from .scripting import ScriptRejected, check_expression, check_script
from .starts import message_only_start

__all__ = ["check_conventions", "code_elements", "diagram_problems"]

_B = f"{{{BPMN_NS}}}"
DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"

Element = etree._Element


def check_conventions(process: Element, f: Findings) -> None:
    """Milestones, step limits, scripts and the start of one executable process."""
    for node in process.iter():
        if not isinstance(node.tag, str) or not is_bpmn(node, *FLOW_NODES):
            continue
        props = properties(node)
        milestone = props.get("milestone")
        if milestone is not None and milestone not in MILESTONES:
            f.error(
                node,
                f'{describe(node)}: milestone "{milestone}" is not one of {", ".join(MILESTONES)}; '
                "a misspelt milestone never starts the legal clock or changes the case's status",
            )
        for name, known in (
            ("check", TASK_CHECKS),
            ("assignTo", ASSIGNEES),
            ("notifyApplicant", APPLICANT_NOTICES),
            ("clockPause", tuple(PAUSE_KINDS)),
        ):
            given = props.get(name)
            if given is not None and given not in known:
                f.error(node, f'{describe(node)}: {name} "{given}" is not one of {", ".join(known)}')
        step_limit = props.get("stepLimit")
        if step_limit is not None:
            try:
                value, _unit = parse_limit(step_limit)
            except ConfigError as err:
                f.error(node, f"{describe(node)}: stepLimit: {err}")
            else:
                if value <= 0:
                    f.error(node, f'{describe(node)}: stepLimit "{step_limit}" must be more than zero')
    _check_code(process, f)
    _starts(process, f)


# Where BPMN carries code the engine runs: scripts (exec) and expressions (eval).
_SCRIPT_TAGS = {f"{_B}script", f"{{{SPIFF_NS}}}preScript", f"{{{SPIFF_NS}}}postScript"}
_EXPRESSION_TAGS = {
    _B + tag
    for tag in (
        "conditionExpression",
        "timeDate",
        "timeDuration",
        "timeCycle",
        "loopCardinality",
        "completionCondition",
        "formalExpression",
        "messagePath",
    )
}


def code_elements(process: Element) -> list[tuple[Element, str, str | None]]:
    """(element, "exec" | "eval" | "attribute", id of the nearest element with one) for every script and
    expression the engine runs; "attribute" is a service operator's parameter (its ``value`` is evaluated)."""
    found: list[tuple[Element, str, str | None]] = []
    for node in process.iter():
        tag = node.tag
        if not isinstance(tag, str):
            continue
        if tag in _SCRIPT_TAGS:
            mode = "exec"
        elif tag in _EXPRESSION_TAGS:
            mode = "eval"
        elif tag == f"{{{SPIFF_NS}}}parameter" and node.get("value") is not None:
            mode = "attribute"
        else:
            continue
        owner: Element | None = node
        while owner is not None and not owner.get("id"):
            owner = owner.getparent()
        found.append((node, mode, owner.get("id") if owner is not None else None))
    return found


def _check_code(process: Element, f: Findings) -> None:
    """Every script and expression must be in the script language; one problem per text, on the line of the
    file where the offence is."""
    for node, mode, element in code_elements(process):
        raw = (node.get("value") if mode == "attribute" else node.text) or ""
        if not raw.strip():
            continue
        kind = "exec" if mode == "exec" else "eval"
        if python_error(textwrap.dedent(raw).strip(), kind) is not None:
            continue  # not Python at all: the rules said so already
        try:
            (check_script if kind == "exec" else check_expression)(raw)
        except ScriptRejected as err:
            line = node.sourceline
            if line is not None and err.lineno and mode != "attribute":
                # an expression is stripped before parsing: count the blank lines it loses
                lost = 0 if kind == "exec" else raw[: len(raw) - len(raw.lstrip())].count("\n")
                line += err.lineno - 1 + lost
            owner = node.getparent() if mode != "exec" or node.getparent() is not None else node
            what = f"{describe(owner)}: " if owner is not None and owner.get("id") == element else ""
            f.problems.append(Problem(f.filename, one_line(f"{what}script rejected: {err.reason}", 400), line, element))


def _starts(process: Element, f: Findings) -> None:
    starts = message_only_start(process)
    if len(starts) == 1:
        f.warn(
            starts[0],
            f"{describe(starts[0])} waits for a message, and it is the only start: onewindow starts the "
            "process there when the window registers a case (the application is the message)",
        )
    elif starts:
        ids = ", ".join(str(s.get("id")) for s in starts)
        f.error(
            starts[0],
            f"{describe(process)} starts only with message start events ({ids}): a case registered at the "
            "window would wait for a message forever; add a plain start event or keep one message start",
        )


def diagram_problems(root: Element, process_ids: list[str], f: Findings) -> None:
    """Every flow node and sequence flow of the given processes needs a shape or edge in the diagram:
    ``render`` and the worklist draw only what the diagram (BPMN DI) places."""
    drawn = {
        el.get("bpmnElement")
        for el in root.iter(f"{{{DI_NS}}}BPMNShape", f"{{{DI_NS}}}BPMNEdge")
        if el.get("bpmnElement")
    }
    for process in root.iter(f"{_B}process"):
        if process.get("id") not in process_ids:
            continue
        for el in process.iter():
            if not isinstance(el.tag, str) or not el.get("id") or el.get("id") in drawn:
                continue
            if is_bpmn(el, *FLOW_NODES):
                f.error(el, f"{describe(el)} has no shape in the diagram (BPMN DI), so it cannot be drawn")
            elif is_bpmn(el, "sequenceFlow"):
                f.error(el, f"{describe(el)} has no edge in the diagram (BPMN DI), so it cannot be drawn")
