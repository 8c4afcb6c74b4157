"""How a case starts: a process whose only start event waits for a message starts at the window.

A case is registered by the intake window, and the application it registers is that message. SpiffWorkflow
would leave such a process waiting for a message nobody sends, so before parsing, the one message start
event becomes a plain one. Processes with several message starts and no plain one are refused at deploy.
"""

from __future__ import annotations

from lxml import etree

__all__ = ["message_only_start", "plain_message_starts"]

_B = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def message_only_start(process: etree._Element) -> list[etree._Element]:
    """The top-level start events of ``process`` when every one of them waits for a message, else []."""
    starts = [c for c in process if c.tag == f"{_B}startEvent"]
    if starts and all(c.find(f"{_B}messageEventDefinition") is not None for c in starts):
        return starts
    return []


def plain_message_starts(root: etree._Element) -> None:
    """Make each process's only message start event a plain start event (in place)."""
    for process in root.iter(f"{_B}process"):
        starts = message_only_start(process)
        if len(starts) == 1:
            for definition in starts[0].findall(f"{_B}messageEventDefinition"):
                starts[0].remove(definition)
