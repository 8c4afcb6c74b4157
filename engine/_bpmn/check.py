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

``onewindow check PATH...`` prints every problem (and, with ``--summary``, a count per kind).
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from .._errors import InvalidXMLError, Problem
from .conventions import check_conventions, diagram_problems
from .rules import BPMN_NS, Findings, ProcessRules, describe, one_line
from .safe_xml import parse_xml_bytes
from .starts import plain_message_starts

__all__ = [
    "CheckResult",
    "bpmn_files",
    "callable_elsewhere",
    "check_bpmn",
    "check_bpmn_bytes",
    "check_files",
    "problem_kind",
    "process_index",
    "summarise",
]

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
    # Flow nodes and flows without a shape in the diagram: they run, but cannot be drawn (deploy refuses)
    diagram: list[Problem] = field(default_factory=list)
    parser: Any = None  # the SpiffBpmnParser holding the file, when parsing got that far (to reuse)

    @property
    def ok(self) -> bool:
        return not self.problems


DEFAULT_MAX_BPMN_BYTES = 5 * 1024 * 1024  # the largest shipped process is ~40 KB; a diagram-heavy one a few MB


def max_bpmn_bytes() -> int:
    """The size limit of one BPMN file: ``ONEWINDOW_MAX_BPMN_BYTES``, or 5 MiB."""
    raw = os.environ.get("ONEWINDOW_MAX_BPMN_BYTES", "").strip()
    try:
        return int(raw) if raw else DEFAULT_MAX_BPMN_BYTES
    except ValueError:
        return DEFAULT_MAX_BPMN_BYTES


def _too_large(size: int, filename: str) -> CheckResult | None:
    limit = max_bpmn_bytes()
    if size <= limit:
        return None
    message = f"file is {size} bytes, over the limit of {limit} bytes for a BPMN file (ONEWINDOW_MAX_BPMN_BYTES)"
    return CheckResult(filename, problems=[Problem(filename, message)])


def check_bpmn(path: Path, *, other_processes: Mapping[str, str] | None = None) -> CheckResult:
    """Check the BPMN file at ``path`` (its size first: an oversized file is not even read);
    ``other_processes`` (process id -> file) are the processes of other files that its call activities
    may call; by default the reusable patterns of its folder's ``patterns/`` (processes/patterns/)."""
    shared = Path(path).parent / PATTERNS
    if other_processes is None and shared.is_dir():
        other_processes = {pid: str(f) for f in bpmn_files(shared) for pid in process_index([f])}
    try:
        refused = _too_large(Path(path).stat().st_size, str(path))
        if refused is not None:
            return refused
        data = Path(path).read_bytes()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        return CheckResult(str(path), problems=[Problem(str(path), f"cannot read file: {reason}")])
    return check_bpmn_bytes(data, filename=str(path), other_processes=other_processes)


def check_bpmn_bytes(data: bytes, *, filename: str, other_processes: Mapping[str, str] | None = None) -> CheckResult:
    """Check BPMN ``data``; ``filename`` names it in every problem."""
    refused = _too_large(len(data), filename)
    if refused is not None:
        return refused
    result = CheckResult(filename)
    try:
        _check(data, result, other_processes or {})
    except Exception as err:  # a bug here must still come out as one line, never a traceback
        result.problems.append(Problem(filename, f"internal error while checking: {_describe_error(err)}"))
        result.parser = None
    return result


def process_index(files: Sequence[Path]) -> dict[str, str]:
    """Executable process id -> file, over ``files`` (unreadable or malformed ones are left out: their
    own check reports them)."""
    index: dict[str, str] = {}
    for file in files:
        try:
            root = parse_xml_bytes(file.read_bytes(), filename=str(file)).getroot()
        except (OSError, InvalidXMLError):
            continue
        for proc in root.iter(f"{_B}process"):
            pid = proc.get("id")
            if pid and proc.get("isExecutable", "true") == "true":
                index.setdefault(pid, str(file))
    return index


PATTERNS = "patterns"


def bpmn_files(path: Path, *, recursive: bool = False) -> list[Path]:
    """The BPMN files of a folder (``*.bpmn`` and ``*.xml``; with ``recursive`` of its sub-folders too),
    or the one file given."""
    if path.is_dir():
        found = path.rglob("*") if recursive else path.iterdir()
        return sorted(p for p in found if p.suffix.lower() in (".bpmn", ".xml") and p.is_file())
    return [path]


def check_files(paths: Sequence[Path]) -> list[CheckResult]:
    """Check each file (or each BPMN file of each folder and its sub-folders); a call activity may call a process of any
    other file given or of another file in the same folder."""
    files: list[Path] = []
    for path in paths:
        files.extend(bpmn_files(path, recursive=True))
    others = callable_elsewhere(files)
    return [check_bpmn(file, other_processes=others[file]) for file in files]


def callable_elsewhere(files: Sequence[Path]) -> dict[Path, dict[str, str]]:
    """For each file, the executable processes (id -> file) of the other files given and of the other
    BPMN files in its folder: what its call activities may call."""
    neighbours = {f for file in files for f in bpmn_files(file.parent) if file.parent.is_dir()} | set(files)
    # the reusable patterns a matter calls live in its folder's patterns/ (processes/patterns/)
    neighbours |= {f for file in files if (file.parent / PATTERNS).is_dir() for f in bpmn_files(file.parent / PATTERNS)}
    index_by_file = {f: process_index([f]) for f in sorted(neighbours)}
    return {file: {pid: str(f) for f, ids in index_by_file.items() if f != file for pid in ids} for file in files}


def _check(data: bytes, result: CheckResult, other_processes: Mapping[str, str]) -> None:
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
            line=root.sourceline, element=root.get("id") or qname.localname,
        ))  # fmt: skip
        return
    findings = Findings(filename)
    result.process_ids = _check_definitions(root, findings, other_processes)
    findings.warnings.extend(_schema_warnings(tree, filename))
    result.problems.extend(sorted(findings.problems, key=_by_line))
    result.warnings.extend(sorted(findings.warnings, key=_by_line))
    drawing = Findings(filename)
    diagram_problems(root, result.process_ids, drawing)
    result.diagram.extend(sorted(drawing.problems, key=_by_line))
    if result.problems:
        return
    _run_spiff(tree, result)


def _by_line(problem: Problem) -> int:
    return problem.line or 0


def _check_definitions(root: etree._Element, f: Findings, other_processes: Mapping[str, str]) -> list[str]:
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
    rules = ProcessRules(root, f, other_processes)
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
        check_conventions(proc, f)
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
    plain_message_starts(root)  # as the runtime parses it
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


# -- the summary of ``onewindow check --summary`` ------------------------------------------------------
def problem_kind(problem: Problem) -> str:
    """A problem's message with names, ids and quoted values left out: what kind of problem it is.

    Each left-out part leaves a space behind, so the words around it never run together."""
    text = problem.message
    if text.startswith("SpiffWorkflow"):
        return text.split(":")[0].split(" cannot parse")[0] + " cannot parse it"
    text = re.sub(r'(?<![=\w])"[^"]*"|`[^`]*`|\([^)]*\)', " ", text)  # attribute values (a="b") stay
    text = re.sub(r"\b\d+\b", "N", text)
    text = " ".join(text.split())
    return re.sub(r" ([,;:.])", r"\1", text)


def summarise(results: Sequence[CheckResult]) -> list[str]:
    """``N files: P pass, F fail`` and a count per kind of problem, most frequent first."""
    kinds: Counter[str] = Counter(problem_kind(p) for r in results for p in r.problems)
    passed = sum(r.ok for r in results)
    lines = [f"{len(results)} files: {passed} pass, {len(results) - passed} fail"]
    lines.extend(f"{count:5d}  {kind}" for kind, count in kinds.most_common())
    return lines
