"""``onewindow deploy --check``: can this designer-made BPMN file run on onewindow's SpiffWorkflow engine?

The check never raises (except ``KeyboardInterrupt``): every finding is a ``Problem``, one line naming the
file, the line, the element id and what is wrong. It runs in four stages, each only on what the previous
one let through:

1. safe parsing (``safe_xml``): malformed XML, DOCTYPE and entity declarations are refused;
2. the root must be a BPMN 2.0 ``definitions`` element;
3. the static rules of ``bpmn_rules`` (unsupported elements, missing references, conditions and timers that
   are not Python, ...), plus the BPMN 2.0 XML schema, whose complaints are warnings only: SpiffWorkflow
   itself parses schema-invalid files, and many modelling tools export them;
4. if nothing so far is a problem, SpiffWorkflow's own parser, ``get_spec`` for every executable process.

``python -m onewindow.engine.bpmn_check PATH...`` prints every problem and a summary.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from .._errors import InvalidXMLError, Problem
from .rules import BPMN_NS, Findings, ProcessRules, describe, one_line
from .safe_xml import parse_xml_bytes

__all__ = ["CheckResult", "check_bpmn", "check_bpmn_bytes"]

_B = f"{{{BPMN_NS}}}"
_DEFINITIONS = f"{_B}definitions"
_CHOREOGRAPHY = (f"{_B}choreography", f"{_B}globalChoreographyTask")
_CONVERSATION = tuple(_B + t for t in ("conversation", "subConversation", "callConversation", "globalConversation"))
_SCHEMA_LOCK = threading.Lock()  # the compiled schema keeps one error log: one validation at a time
_NAMESPACES = {
    BPMN_NS: "bpmn",
    "http://www.w3.org/2001/XMLSchema": "xs",
    "http://spiffworkflow.org/bpmn/schema/1.0/core": "spiffworkflow",
}


@dataclass
class CheckResult:
    """What ``check_bpmn`` found in one file."""

    file: str
    problems: list[Problem] = field(default_factory=list)  # errors: not deployable
    warnings: list[Problem] = field(default_factory=list)  # deployable but worth a look
    process_ids: list[str] = field(default_factory=list)  # executable processes, uncalled ones first
    parser: Any = None  # the SpiffBpmnParser holding the file, when parsing got that far (to reuse)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_bpmn(path: Path) -> CheckResult:
    """Check the BPMN file at ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        return CheckResult(str(path), problems=[Problem(str(path), f"cannot read file: {reason}")])
    return check_bpmn_bytes(data, filename=str(path))


def check_bpmn_bytes(data: bytes, *, filename: str) -> CheckResult:
    """Check BPMN ``data``; ``filename`` names it in every problem."""
    result = CheckResult(filename)
    try:
        _check(data, result)
    except Exception as err:  # a bug here must still come out as one line, never a traceback
        result.problems.append(Problem(filename, f"internal error while checking: {_describe_error(err)}"))
        result.parser = None
    return result


def _check(data: bytes, result: CheckResult) -> None:
    filename = result.file
    try:
        tree = parse_xml_bytes(data, filename=filename)
    except InvalidXMLError as err:
        result.problems.extend(err.problems)
        return
    root = tree.getroot()
    if root.tag != _DEFINITIONS:
        qname = etree.QName(root)
        ns = f' in namespace "{qname.namespace}"' if qname.namespace else " without a namespace"
        result.problems.append(Problem(
            filename,
            f"not a BPMN 2.0 file: the root element is <{qname.localname}>{ns}, expected "
            f"<definitions> in {BPMN_NS}",
            line=root.sourceline, element=root.get("id"),
        ))  # fmt: skip
        return
    findings = Findings(filename)
    result.process_ids = _check_definitions(root, findings)
    findings.warnings.extend(_schema_warnings(tree, filename))
    result.problems.extend(sorted(findings.problems, key=_by_line))
    result.warnings.extend(sorted(findings.warnings, key=_by_line))
    if result.problems:
        return
    _run_spiff(tree, result)


def _by_line(problem: Problem) -> int:
    return problem.line or 0


def _check_definitions(root: etree._Element, f: Findings) -> list[str]:
    """The document-level rules, then ``ProcessRules`` on each executable process; return the executable
    process ids, those no call activity calls first."""
    for el in root.iter(*(_B + kind for kind in ("message", "signal", "error", "escalation", "dataStore"))):
        if not el.get("id"):
            f.error(el, f"{describe(el)} has no id")  # SpiffWorkflow refuses these document-wide
    for el in root.iter(f"{_B}dataStore"):
        f.error(
            el,
            f"{describe(el)}: data stores are not supported (SpiffWorkflow needs an implementation "
            "registered for each, and onewindow registers none)",
        )
    for el in root.iter(*_CHOREOGRAPHY):
        f.error(el, f"{describe(el)}: choreographies cannot be executed")
    for el in root.iter(*_CONVERSATION):
        f.warn(el, f"{describe(el)} is documentation only; the engine ignores conversations")
    for el in root.iter(f"{_B}correlationProperty"):
        if next(el.iter(f"{_B}correlationPropertyRetrievalExpression"), None) is None:
            f.error(el, f"{describe(el)} has no correlationPropertyRetrievalExpression")
    rules = ProcessRules(root, f)
    if not rules.processes:
        f.error(
            root, "no executable process: the file has no bpmn:process (a collaboration or choreography diagram only?)"
        )
    elif not rules.executable:
        listed = ", ".join(str(p.get("id")) for p in rules.processes[:5])
        f.error(
            root,
            f'no executable process: every process ({listed}) has isExecutable="false"; mark the '
            'one to run isExecutable="true"',
        )
    for proc in rules.executable:
        rules.check_process(proc)
    called = {c.get("calledElement") for c in root.iter(f"{_B}callActivity")}
    ids = [str(p.get("id")) for p in rules.executable if p.get("id")]
    uncalled = [pid for pid in ids if pid not in called]
    if len(uncalled) > 1:
        f.warn(
            root,
            f"{len(uncalled)} executable processes that no call activity calls "
            f"({', '.join(uncalled[:5])}): each could start a case; mark the pools that are only "
            'documentation isExecutable="false"',
        )
    return uncalled + [pid for pid in ids if pid not in uncalled]


def _schema_warnings(tree: etree._ElementTree, filename: str) -> list[Problem]:
    """Each complaint of the BPMN 2.0 XSD (with SpiffWorkflow's extensions), as a warning."""
    from SpiffWorkflow.spiff.parser.process import VALIDATOR

    schema: Any = VALIDATOR.validator
    VALIDATOR.preprocess(tree)  # what SpiffWorkflow does before validating (bpmn-js correlation quirk)
    with _SCHEMA_LOCK:
        if schema.validate(tree):
            return []
        errors = [(e.line, e.message) for e in schema.error_log]
    by_line: dict[int, etree._Element] = {}
    for node in tree.getroot().iter():
        if node.sourceline is not None and isinstance(node.tag, str):
            by_line.setdefault(node.sourceline, node)
    warnings = []
    for line, message in errors:
        el: etree._Element | None = by_line.get(line)
        while el is not None and not el.get("id"):
            el = el.getparent()
        for ns, prefix in _NAMESPACES.items():
            message = message.replace(f"{{{ns}}}", f"{prefix}:")
        warnings.append(
            Problem(
                filename,
                "does not match the BPMN 2.0 schema: " + one_line(message, 240),
                line=line or None,
                element=el.get("id") if el is not None else None,
            )
        )
    return warnings


def _run_spiff(tree: etree._ElementTree, result: CheckResult) -> None:
    """Parse with SpiffWorkflow itself: whatever the rules missed, it refuses here."""
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

    filename = result.file
    root = tree.getroot()
    ids: dict[str, etree._Element] = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id"):
            ids.setdefault(str(el.get("id")), el)
    parser: Any = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(tree, filename=filename)
    except Exception as err:
        result.problems.append(_spiff_problem(err, filename, ids, None))
        return
    result.parser = parser
    done: set[str] = set()
    while pending := [pid for pid in parser.get_process_ids() if pid not in done]:
        for pid in pending:
            done.add(pid)
            try:
                parser.get_spec(pid)
            except Exception as err:
                result.problems.append(_spiff_problem(err, filename, ids, pid))


def _spiff_problem(err: Exception, filename: str, ids: dict[str, etree._Element], pid: str | None) -> Problem:
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    el_id = pid
    line = None
    if isinstance(err, ValidationException):
        el_id = getattr(err, "id", None) or pid
        if isinstance(getattr(err, "line_number", None), int):
            line = err.line_number
        text = str(err.args[0]) if err.args else str(err)
    else:
        text = _describe_error(err)
    element = ids.get(el_id) if el_id else None
    if line is None and element is not None:
        line = element.sourceline
    what = describe(element) if element is not None else "the file"
    text = re.sub(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>", r"<\1>", text)
    if "RecursionError" in text:
        text = "the flow is chained too deeply for SpiffWorkflow's recursive parser"
    return Problem(
        filename, one_line(f"SpiffWorkflow cannot parse {what}: {text}", 400), line=line, element=el_id or None
    )


def _describe_error(err: BaseException) -> str:
    if isinstance(err, RecursionError):
        return "the process is nested or chained too deeply for SpiffWorkflow's recursive parser"
    text = one_line(str(err), 200)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


# -- python -m onewindow.engine.bpmn_check PATH... ---------------------------------------------------------
def _kind(problem: Problem) -> str:
    """A problem's message without names, ids and quoted values: what kind of problem it is."""
    text = re.sub(r' ?"[^"]*"| ?`[^`]*`| ?\([^)]*\)', "", problem.message)
    text = re.sub(r"\b\d+\b", "N", text)
    return text.split(":")[0] if text.startswith("SpiffWorkflow") else text


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    show_warnings = "--warnings" in args
    paths: list[Path] = []
    for arg in (a for a in args if not a.startswith("--")):
        p = Path(arg)
        paths.extend(sorted(q for q in p.rglob("*") if q.suffix in (".bpmn", ".xml")) if p.is_dir() else [p])
    kinds: Counter[str] = Counter()
    passed = 0
    for path in paths:
        result = check_bpmn(path)
        passed += result.ok
        for problem in result.problems:
            print(f"error: {problem}")
            kinds[_kind(problem)] += 1
        for warning in result.warnings if show_warnings else []:
            print(f"warning: {warning}")
    print(f"\n{len(paths)} files: {passed} pass, {len(paths) - passed} fail")
    for kind, count in kinds.most_common():
        print(f"{count:5d}  {kind}")
    return 0 if passed == len(paths) else 1


if __name__ == "__main__":
    sys.exit(main())
