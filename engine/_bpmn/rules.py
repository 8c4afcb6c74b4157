"""Static rules: what SpiffWorkflow 3.2 cannot parse, or would silently misread, in a BPMN 2.0 document.

Each rule mirrors a refusal or a silent default in ``SpiffWorkflow/bpmn/parser`` and
``SpiffWorkflow/spiff/parser``. They run on the lxml tree before SpiffWorkflow does, so that a designer sees
every problem of a file at once, each with its line and element id, instead of SpiffWorkflow's first
exception only. Like SpiffWorkflow, only executable processes are checked, and a process without an
``isExecutable`` attribute counts as executable.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lxml import etree

from .._errors import Problem

__all__ = ["BPMN_NS", "Findings", "ProcessRules", "describe", "one_line"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_B = f"{{{BPMN_NS}}}"
_S = f"{{{SPIFF_NS}}}"

Element = etree._Element

# Flow nodes SpiffBpmnParser has a parser class for (BpmnParser.PARSER_CLASSES and its overrides).
SUPPORTED_NODES = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "subProcess", "transaction", "callActivity",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
})  # fmt: skip
UNSUPPORTED_NODES = {
    "complexGateway": "is not supported by SpiffWorkflow",
    "implicitThrowEvent": "is not supported by SpiffWorkflow",
    "adHocSubProcess": "is not supported: its activities are picked by people at run time "
    "(SpiffWorkflow's support is experimental)",
} | dict.fromkeys(
    ("choreographyTask", "subChoreography", "callChoreography"),
    "is a choreography element; choreographies cannot be executed",
)
FLOW_NODES = SUPPORTED_NODES | UNSUPPORTED_NODES.keys()
CONTAINERS = ("process", "subProcess", "transaction", "adHocSubProcess")
# Nodes whose parser accepts several outgoing flows (TaskParser.handles_multiple_outgoing).
SPLITTING = frozenset(
    {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway", "startEvent"}
)
CONDITIONAL_GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway"})
# The event definitions each event parser reads (bpmn/parser/event_parsers.py); it ignores any other.
EVENT_DEFINITIONS = {
    "startEvent": {"message", "signal", "timer", "conditional"},
    "endEvent": {"message", "cancel", "error", "escalation", "terminate"},
    "intermediateCatchEvent": {"message", "signal", "timer", "conditional"},
    "intermediateThrowEvent": {"escalation", "message", "signal", "timer"},
    "boundaryEvent": {"cancel", "error", "escalation", "message", "signal", "timer", "conditional"},
}
# Task specs SpiffWorkflow adds to every process spec by these names.
RESERVED_IDS = frozenset({"Start", "End", "StartEventSplit", "StartEventJoin"})
_ISO_DURATION = re.compile(r"^(R\d*/)?P[0-9YMWDTHS.,]+$")


def local(el: Element) -> str:
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def is_bpmn(el: Element, *names: str) -> bool:
    tag = el.tag
    if not isinstance(tag, str) or not tag.startswith(_B):
        return False
    return not names or tag[len(_B) :] in names


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind_of(el: Element) -> str:
    """``service task``: the element's type in words."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local(el)).lower()


def article(words: str) -> str:
    return "an" if words[:1] in ("a", "e", "i", "o", "u") else "a"


def describe(el: Element) -> str:
    """``service task "Archive invoice"``: the element's type in words and, if any, its name."""
    kind = kind_of(el)
    # A name's own double quotes become typographic ones, so the quotes around it stay a pair.
    name = one_line((el.get("name") or "").replace('"', "”"), 60)
    return f'{kind} "{name}"' if name else kind


def _quote(text: str, limit: int = 60) -> str:
    return "`" + one_line(text, limit) + "`"


def python_error(text: str, mode: str) -> str | None:
    """Why ``text`` is no Python expression (mode "eval") or script (mode "exec"); None if it is."""
    try:
        ast.parse(text, mode=mode)
    except SyntaxError as err:
        return err.msg
    except (ValueError, MemoryError, RecursionError):
        return "cannot be parsed"
    return None


@dataclass
class Findings:
    """Problems (not deployable) and warnings (deployable, worth a look) of one file."""

    filename: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def make(self, el: Element | None, message: str) -> Problem:
        line = el.sourceline if el is not None else None
        # Every line names an element: one without an id (e.g. a <definitions> without one) by its tag.
        element = (el.get("id") or local(el)) if el is not None else None
        return Problem(self.filename, one_line(message, 400), line=line, element=element or None)

    def error(self, el: Element | None, message: str) -> None:
        self.problems.append(self.make(el, message))

    def warn(self, el: Element | None, message: str) -> None:
        self.warnings.append(self.make(el, message))


class ProcessRules:
    """The rules for the elements of one executable process (see ``check_process``)."""

    def __init__(self, root: Element, findings: Findings, other_processes: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.f = findings
        self.other_processes = dict(other_processes or {})  # process id -> file, for calls across files
        self.ids: dict[str, Element] = {}
        for el in root.iter():
            el_id = el.get("id") if isinstance(el.tag, str) else None
            if el_id is not None:
                self.ids.setdefault(el_id, el)
        self.processes = list(root.iter(f"{_B}process"))
        self.executable = [p for p in self.processes if p.get("isExecutable", "true") == "true"]
        self.executable_ids = {p.get("id") for p in self.executable}
        self.handlers: dict[str, Callable[[Element], None]] = {
            "sendTask": self._message_task,
            "receiveTask": self._message_task,
            "serviceTask": self._service_task,
            "businessRuleTask": self._business_rule_task,
            "scriptTask": self._script_task,
            "callActivity": self._call_activity,
        }
        self.defined = {
            kind: {el.get("id") for el in root.iter(f"{_B}{kind}")}
            for kind in ("message", "signal", "error", "escalation")
        }

    # -- one executable process -------------------------------------------------------------------
    def check_process(self, proc: Element) -> None:
        if not proc.get("id"):
            self.f.error(proc, "process has no id")
        nodes = [c for c in proc if is_bpmn(c, *FLOW_NODES)]
        if not nodes:
            self.f.error(
                proc,
                f"{describe(proc)} is empty (a pool without flow elements?); mark it "
                'isExecutable="false" or model its flow',
            )
        elif "isExecutable" not in proc.attrib:
            self.f.warn(proc, f"{describe(proc)} has no isExecutable attribute; SpiffWorkflow treats it as executable")
        seen: dict[str, Element] = {}
        for el in proc.iter():
            if not isinstance(el.tag, str):
                continue
            el_id = el.get("id")
            if el_id and is_bpmn(el):
                if el_id in seen:
                    self._duplicate_id(el, seen[el_id])
                seen.setdefault(el_id, el)
                if el_id in RESERVED_IDS and is_bpmn(el, *FLOW_NODES, *CONTAINERS):
                    self.f.error(
                        el,
                        f'{describe(el)} has the id "{el_id}", which collides with a task '
                        "SpiffWorkflow adds to every process; rename it",
                    )
            name = local(el)
            if not is_bpmn(el):
                continue
            if name in CONTAINERS:
                self._container(el)
            if name in UNSUPPORTED_NODES:
                self.f.error(el, f"{describe(el)} {UNSUPPORTED_NODES[name]}")
            elif name in EVENT_DEFINITIONS:
                self._event(el, name)
            elif name == "dataStoreReference":
                self.f.error(
                    el, f"{describe(el)}: data stores are not supported (no implementation is registered for them)"
                )
            handler = self.handlers.get(name)
            if handler is not None:
                handler(el)
            if name in FLOW_NODES:
                self._data_associations(el)
                self._loops(el)

    def _duplicate_id(self, el: Element, first: Element) -> None:
        """Two elements of one process share an id. SpiffWorkflow keeps data objects per (sub-)process in
        their own table, so a data object declared again in another (sub-)process, or declared twice alike
        in one, runs exactly as drawn: only a warning. Anything else is refused."""
        what = f"{describe(el)} reuses the id of the {describe(first)} on line {first.sourceline}"
        if is_bpmn(el, "dataObject") and is_bpmn(first, "dataObject"):
            alike = all(el.get(a) == first.get(a) for a in ("name", "isCollection"))
            if _container_of(el) is not _container_of(first) or alike:
                self.f.warn(el, f"{what}; SpiffWorkflow runs it unchanged, but other BPMN tools may refuse the file")
                return
        self.f.error(el, what)

    def _container(self, box: Element) -> None:
        """Start/end events, sequence flows and splits of one process or sub-process."""
        kind = local(box)
        nodes = {c.get("id"): c for c in box if is_bpmn(c, *FLOW_NODES) and c.get("id")}
        starts = [c for c in box if is_bpmn(c, "startEvent")]
        if kind == "process" and nodes and not starts:
            self.f.error(box, f"{describe(box)} has no start event")
        elif kind in ("subProcess", "transaction"):
            if len(starts) != 1:
                self.f.error(box, f"{describe(box)} must contain exactly one start event, not {len(starts)}")
            if not any(is_bpmn(c, "endEvent") for c in box):
                self.f.error(box, f"{describe(box)} must contain an end event")
        outgoing: dict[str, list[Element]] = {}
        for flow in box.iterchildren(f"{_B}sequenceFlow"):
            for end in ("sourceRef", "targetRef"):
                ref = flow.get(end)
                if not ref:
                    self.f.error(flow, f"{describe(flow)} has no {end}")
                elif ref not in nodes:
                    where = "is not in the same (sub-)process" if ref in self.ids else "is not defined"
                    self.f.error(flow, f'{describe(flow)}: its {end} "{ref}" {where}')
            outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
        for node_id, node in nodes.items():
            flows = outgoing.get(str(node_id), [])
            name = local(node)
            if len(flows) > 1 and name not in SPLITTING:
                self.f.error(
                    node,
                    f"{describe(node)} has {len(flows)} outgoing sequence flows; SpiffWorkflow"
                    " only splits at gateways: add a parallel or exclusive gateway",
                )
            for flow in flows:
                self._flow_condition(flow, node, flows)

    def _flow_condition(self, flow: Element, source: Element, siblings: list[Element]) -> None:
        cond = flow.find(f"{_B}conditionExpression")
        gateway = local(source) in CONDITIONAL_GATEWAYS
        if cond is not None and not gateway:
            self.f.warn(
                flow,
                f"{describe(flow)} has a condition, but it leaves a {describe(source)}: "
                "SpiffWorkflow ignores conditions except on exclusive and inclusive gateways",
            )
            return
        if not gateway:
            return
        default = source.get("default")
        if default and default not in {f.get("id") for f in siblings} and flow is siblings[0]:
            self.f.error(source, f'{describe(source)} names "{default}" as its default flow, which does not leave it')
        text = cond.text if cond is not None else None
        if text is None or not text.strip():
            if len(siblings) > 1 and flow.get("id") != default:
                self.f.error(
                    flow,
                    f"{describe(flow)} leaves the {describe(source)} without a condition and "
                    "is not the gateway's default flow",
                )
            return
        self._expression(flow, text, "condition", cond)

    def _expression(
        self,
        owner: Element,
        text: str,
        what: str,
        holder: Element | None = None,
        *,
        hint: str = "SpiffWorkflow evaluates it as Python over the case data",
    ) -> None:
        language = (holder.get("language") or "") if holder is not None else ""
        if language and "python" not in language.lower():
            self.f.error(
                owner,
                f"{describe(owner)}: {what} {_quote(text)} is in language "
                f'"{language}"; only Python expressions are supported',
            )
        elif (why := python_error(text.strip(), "eval")) is not None:
            self.f.error(owner, f"{describe(owner)}: {what} {_quote(text)} is not a Python expression ({why}); {hint}")
        elif python_error(text.strip(" \t"), "eval") is not None:
            self.f.warn(
                owner,
                f"{describe(owner)}: {what} starts with a line break and indentation, which "
                "Python's eval() rejects unless the engine strips it",
            )

    # -- events -----------------------------------------------------------------------------------
    def _event(self, event: Element, kind: str) -> None:
        supported = EVENT_DEFINITIONS[kind]
        definitions = [c for c in event if local(c).endswith("EventDefinition") and is_bpmn(c)]
        if any(is_bpmn(c, "eventDefinitionRef") for c in event):
            self.f.error(
                event,
                f"{describe(event)} uses a shared event definition (eventDefinitionRef), "
                "which SpiffWorkflow does not read; define the event inside the event",
            )
        for definition in definitions:
            what = local(definition)[: -len("EventDefinition")]
            if what not in supported:
                on = kind_of(event)
                self.f.error(
                    event,
                    f"{describe(event)}: {article(what)} {what} event definition on "
                    f"{article(on)} {on} is not supported by SpiffWorkflow",
                )
            elif what in ("message", "signal", "error", "escalation"):
                ref = definition.get(f"{what}Ref")
                if ref and ref not in self.defined[what]:
                    self.f.error(event, f'{describe(event)} refers to {what} "{ref}", which is not defined')
                elif what == "message" and not ref:
                    verb = "sends" if kind in ("endEvent", "intermediateThrowEvent") else "waits for"
                    self.f.error(
                        event, f"{describe(event)} has no message (messageRef), so nothing identifies what it {verb}"
                    )
            elif what == "timer":
                self._timer(event, definition)
            elif what == "conditional":
                cond = definition.find(f"{_B}condition")
                if cond is None or not (cond.text or "").strip():
                    self.f.error(event, f"{describe(event)} has a conditional event definition without a condition")
                else:
                    self._expression(event, cond.text or "", "condition", cond)
        if kind == "boundaryEvent" and not definitions:
            self.f.error(
                event, f"{describe(event)} has no event definition; SpiffWorkflow cannot tell what it waits for"
            )

    def _timer(self, event: Element, definition: Element) -> None:
        # SpiffWorkflow reads the first of these it finds, in this order (parse_timer_event).
        found = [
            (e, w) for w in ("timeDate", "timeDuration", "timeCycle") if (e := definition.find(_B + w)) is not None
        ]
        expr, what = found[0] if found else (None, "")
        label = {"timeDate": "timer date", "timeDuration": "timer duration", "timeCycle": "timer cycle"}
        text = (expr.text or "") if expr is not None else ""
        if expr is None or not text.strip():
            self.f.error(event, f"{describe(event)} has a timer without a time date, duration or cycle expression")
            return
        hint = "SpiffWorkflow evaluates timers as Python: quote literal values, e.g. `'P3D'`"
        if _ISO_DURATION.match(text.strip()):
            self.f.error(event, f"{describe(event)}: {label[what]} {_quote(text)} is not quoted; {hint}")
            return
        self._expression(event, text, label[what], expr, hint=hint)

    def _message_task(self, task: Element) -> None:
        ref = task.get("messageRef")
        definition = task.find(f"{_B}messageEventDefinition")
        if ref is None and definition is not None:
            ref = definition.get("messageRef")
        if not ref:
            self.f.error(
                task,
                f"{describe(task)} has no message (messageRef), so nothing identifies what it "
                f"{'sends' if local(task) == 'sendTask' else 'waits for'}",
            )
        elif ref not in self.defined["message"]:
            self.f.error(task, f'{describe(task)} refers to message "{ref}", which is not defined')

    # -- activities -------------------------------------------------------------------------------
    def _extension(self, el: Element, name: str) -> Element | None:
        ext = el.find(f"{_B}extensionElements")
        return ext.find(f"{_S}{name}") if ext is not None else None

    def _service_task(self, task: Element) -> None:
        operator = self._extension(task, "serviceTaskOperator")
        if operator is None:
            self.f.error(
                task, f"{describe(task)} has no spiffworkflow:serviceTaskOperator, so there is nothing to call"
            )
        elif not operator.get("id"):
            self.f.error(task, f"{describe(task)}: its spiffworkflow:serviceTaskOperator has no id")

    def _business_rule_task(self, task: Element) -> None:
        decision = self._extension(task, "calledDecisionId")
        if decision is None or not (decision.text or "").strip():
            self.f.error(task, f"{describe(task)} has no decision reference (spiffworkflow:calledDecisionId)")

    def _script_task(self, task: Element) -> None:
        fmt = task.get("scriptFormat")
        if fmt and "python" not in fmt.lower():
            self.f.error(task, f'{describe(task)} has scriptFormat "{one_line(fmt, 40)}"; only Python scripts can run')
            return
        script = task.find(f"{_B}script")
        text = (script.text or "") if script is not None else ""
        if not text.strip():
            self.f.error(task, f"{describe(task)} has no script")
        elif (why := python_error(textwrap.dedent(text).strip(), "exec")) is not None:
            self.f.error(task, f"{describe(task)}: its script is not valid Python ({why})")
        elif python_error(text, "exec") is not None:
            self.f.warn(
                task,
                f"{describe(task)}: its script is indented, which Python's exec() rejects unless the engine dedents it",
            )

    def _call_activity(self, task: Element) -> None:
        called = task.get("calledElement")
        target = self.ids.get(called) if called else None
        if not called:
            self.f.error(task, f"{describe(task)} has no calledElement: it calls nothing")
        elif target is None and called in self.other_processes:
            return  # a process of another file of the folder: deploy resolves it there
        elif target is None or not is_bpmn(target, "process"):
            self.f.error(
                task,
                f'{describe(task)} calls "{called}", which is not a process in this file '
                "or in another .bpmn file of its folder",
            )
        elif called not in self.executable_ids:
            self.f.error(task, f'{describe(task)} calls process "{called}", which has isExecutable="false"')

    def _loops(self, task: Element) -> None:
        mi = task.find(f"{_B}multiInstanceLoopCharacteristics")
        if mi is not None:
            cardinality = mi.find(f"{_B}loopCardinality")
            data_input = mi.find(f"{_B}loopDataInputRef")
            if (cardinality is None) == (data_input is None):
                self.f.error(
                    task,
                    f"{describe(task)} is multi-instance but names "
                    f"{'neither' if cardinality is None else 'both'} a loop cardinality "
                    f"{'nor' if cardinality is None else 'and'} a loop data input",
                )
            for expr, what in (
                (cardinality, "loop cardinality"),
                (mi.find(f"{_B}completionCondition"), "completion condition"),
            ):
                if expr is not None and (expr.text or "").strip():
                    self._expression(task, expr.text or "", what, expr)
        loop = task.find(f"{_B}standardLoopCharacteristics")
        if loop is not None:
            condition = loop.find(f"{_B}loopCondition")
            maximum = loop.get("loopMaximum")
            if maximum is not None and not maximum.strip().lstrip("-").isdigit():
                self.f.error(task, f'{describe(task)}: loopMaximum "{one_line(maximum, 20)}" is not a number')
            if condition is None and maximum is None:
                self.f.error(task, f"{describe(task)} loops but has no loopMaximum and no loopCondition")
            elif condition is not None and (condition.text or "").strip():
                self._expression(task, condition.text or "", "loop condition", condition)

    def _data_associations(self, node: Element) -> None:
        """SpiffWorkflow maps a data association only to a data object (or data store) reference whose data
        object is declared in the node's own (sub-)process or the one just around it; deeper nesting makes
        its resolver loop forever (NodeParser._resolve_data_object_ref), so this must be caught here."""
        box = _container_of(node)
        scopes = [s for s in (box, _container_of(box) if box is not None else None) if s is not None]
        declared = {d.get("id") for s in scopes for d in s.iterchildren(f"{_B}dataObject")}
        for assoc, end, verb in (
            ("dataInputAssociation", "sourceRef", "reads"),
            ("dataOutputAssociation", "targetRef", "writes"),
        ):
            for ref in node.iterfind(f"{_B}{assoc}/{_B}{end}"):
                target = self.ids.get(ref.text or "")
                if target is None:
                    self.f.error(
                        node, f'{describe(node)} {verb} "{one_line(ref.text or "", 60)}", which is not defined'
                    )
                elif is_bpmn(target, "dataStoreReference"):
                    continue  # reported as a data store
                elif not is_bpmn(target, "dataObjectReference"):
                    what = f"{describe(node)} {verb} the {describe(target)} ({target.get('id')})"
                    self.f.error(
                        node, f"{what}, but SpiffWorkflow maps only data object references in data associations"
                    )
                elif target.get("dataObjectRef") not in declared:
                    what = f"{describe(node)} {verb} the {describe(target)} ({target.get('id')})"
                    self.f.error(
                        node, f"{what}, whose data object is not declared in this (sub-)process or the one around it"
                    )


def _container_of(el: Element) -> Element | None:
    for parent in el.iterancestors():
        if is_bpmn(parent, *CONTAINERS):
            return parent
    return None
