"""Camunda 7 extension elements, read as the SpiffArena ones onewindow understands.

Designers who use Camunda Modeler with onewindow's element templates
(``processes/element-templates/onewindow.json``) get ``camunda:property`` and ``camunda:inputParameter``
elements instead of ``spiffworkflow:property``. Rather than teach every reader two dialects, a parsed
BPMN tree is translated once, right after parsing, into the elements the rest of the engine (our checks,
our per-node metadata, SpiffWorkflow's parser) already reads:

- ``camunda:properties/camunda:property`` → ``spiffworkflow:properties/spiffworkflow:property``
  (a ``spiffworkflow:property`` of the same name wins; an empty value, as an emptied field in the
  Modeler's panel leaves it, is no property);
- a service task with the property ``operator`` and no ``spiffworkflow:serviceTaskOperator`` gets one,
  its parameters from ``camunda:inputOutput/camunda:inputParameter`` (name → id, text → value) and its
  result variable from the property ``resultVariable``;
- a timer event whose definition has no time expression takes ``timeDuration`` from the property of that
  name (a literal such as ``3 working_days`` or ``P3D`` is quoted, as SpiffWorkflow evaluates Python).

The stored BPMN is never rewritten: the translation happens in memory each time a file is parsed.
"""

from __future__ import annotations

import json

from lxml import etree

__all__ = ["CAMUNDA_NS", "ENGINE_PROPERTIES", "translate_camunda"]

# Every extension property onewindow reads (spiffworkflow:property or camunda:property), by name: on which
# elements and what it does. The README's table lists the same; a test keeps them and the templates in step.
ENGINE_PROPERTIES = {
    "formJsonSchemaFilename": "user task: its form in forms/ (Camunda: the camunda:formKey attribute)",
    "milestone": "task: the case milestone reached when it completes",
    "name_en": "task, call activity, lane, and for the diagram gateway, event, flow, pool: its English name",
    "stepLimit": "task: its own due date, e.g. 3 working_days",
    "timeDuration": "timer event without a time expression: its duration, e.g. 3 working_days",
    "operator": "service task: the operator to call (share_result)",
    "resultVariable": "service task: where the operator's result goes",
    "simDuration": "user task: simulated work time",
    "simDelay": "user task: simulated waiting time",
    "simOutcomes": "user task: simulated answers (JSON list)",
    "simPause": "user task: simulated special procedure (JSON object)",
}

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS, "camunda": CAMUNDA_NS}


def translate_camunda(root: etree._Element) -> None:
    """Add the SpiffArena equivalents of the Camunda 7 extensions found under ``root`` (in place)."""
    for ext in root.iterfind(".//bpmn:extensionElements", NS):
        if ext.find("camunda:properties", NS) is None and ext.find("camunda:inputOutput", NS) is None:
            continue
        owner = ext.getparent()
        if owner is None:
            continue
        props = _merge_properties(ext)
        tag = etree.QName(owner).localname
        if tag == "serviceTask" and props.get("operator"):
            _service_operator(ext, props)
        if tag.endswith("Event") and props.get("timeDuration"):
            _timer_duration(owner, props["timeDuration"])


def _merge_properties(ext: etree._Element) -> dict[str, str]:
    spiff = ext.find("spiffworkflow:properties", NS)
    existing = {} if spiff is None else _names(spiff, "spiffworkflow")
    merged = dict(existing)
    for prop in ext.iterfind("camunda:properties/camunda:property", NS):
        name, value = prop.get("name"), prop.get("value") or ""
        if not name or not value.strip() or name in existing:
            continue  # an emptied field in the Modeler's panel means unset
        if spiff is None:
            spiff = etree.SubElement(ext, f"{{{SPIFF_NS}}}properties")
        etree.SubElement(spiff, f"{{{SPIFF_NS}}}property", name=name, value=value)
        merged[name] = value
    return merged


def _names(parent: etree._Element, prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for prop in parent.iterfind(f"{prefix}:property", NS):
        name, value = prop.get("name"), prop.get("value")
        if name and value is not None:
            out[name] = value
    return out


def _service_operator(ext: etree._Element, props: dict[str, str]) -> None:
    if ext.find("spiffworkflow:serviceTaskOperator", NS) is not None:
        return
    operator = etree.SubElement(ext, f"{{{SPIFF_NS}}}serviceTaskOperator", id=props["operator"])
    if props.get("resultVariable"):
        operator.set("resultVariable", props["resultVariable"])
    params = etree.SubElement(operator, f"{{{SPIFF_NS}}}parameters")
    for param in ext.iterfind("camunda:inputOutput/camunda:inputParameter", NS):
        name = param.get("name")
        if name:
            etree.SubElement(params, f"{{{SPIFF_NS}}}parameter", id=name, type="str", value=_literal(param.text or ""))


def _timer_duration(event: etree._Element, value: str) -> None:
    definition = event.find("bpmn:timerEventDefinition", NS)
    if definition is None or len(definition.findall("*")) > 0:
        return  # not a timer, or the diagram's own time expression wins
    text = _literal(value)
    duration = etree.SubElement(definition, f"{{{BPMN_NS}}}timeDuration")
    duration.set(f"{{{XSI_NS}}}type", "bpmn:tFormalExpression")
    duration.text = text


def _literal(value: str) -> str:
    """A Camunda value is a literal string; SpiffWorkflow evaluates Python, so quote it unless it is quoted."""
    text = value.strip()
    return text if text[:1] in ("'", '"') else json.dumps(text, ensure_ascii=False)
