"""The steps of a process in the order a reader follows them: the numbered list beside the diagram.

A diagram alone does not explain a process to someone who cannot see it (a screen reader, a phone, a
printout in black and white), so the guide and the case page list the steps as text. A step is what people
do (a user, manual or plain task) or a call of another process (现场踏勘): scripts, service tasks, gateways
and events are the machine's part. Steps are numbered breadth-first along the sequence flows from the start
event, the way the diagram reads left to right: every step comes after the steps it needs, a branch's
steps (补正, 不予许可) after the step that decides; a boundary event's path follows the task it is attached to,
an embedded subprocess's steps follow the subprocess. Steps no flow reaches come last, in file order.
"""

from __future__ import annotations

from collections import deque

from lxml import etree

from .definitions import BPMN_NS, TaskMeta

__all__ = ["STEP_TAGS", "ordered_steps"]

STEP_TAGS = frozenset({"userTask", "manualTask", "task", "callActivity"})


def ordered_steps(process: etree._Element, nodes: dict[str, TaskMeta]) -> list[TaskMeta]:
    """The steps of ``process`` (its ``read_task_meta``: ``nodes``) in reading order."""
    flows: dict[str, list[str]] = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source and target:
            flows.setdefault(source, []).append(target)
    for boundary in process.iter(f"{{{BPMN_NS}}}boundaryEvent"):
        host, boundary_id = boundary.get("attachedToRef"), boundary.get("id")
        if host and boundary_id:
            flows.setdefault(host, []).append(boundary_id)
    for sub in process.iter(f"{{{BPMN_NS}}}subProcess"):
        sub_id = sub.get("id")
        inner = [s.get("id") for s in sub.iterfind(f"{{{BPMN_NS}}}startEvent")]
        if sub_id:
            # the subprocess's own steps first, then what follows it
            flows[sub_id] = [i for i in inner if i] + flows.get(sub_id, [])
    starts = [s.get("id") for s in process.iterfind(f"{{{BPMN_NS}}}startEvent")]
    queue = deque(s for s in starts if s)
    seen = set(queue)
    order: list[str] = []
    while queue:
        node = queue.popleft()
        order.append(node)
        for target in flows.get(node, []):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    order += [n for n in nodes if n not in seen]  # unreachable (an event subprocess's, a detached one)
    return [nodes[n] for n in order if n in nodes and nodes[n].tag in STEP_TAGS]
