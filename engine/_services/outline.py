"""What pages read of a deployed version's BPMN besides running it: English names and the list of steps.

Read with lxml only, never SpiffWorkflow's parser, so a worklist page after a restart builds no process
bundle to name its tasks in English. A deployed version never changes, so its outline is kept per
definition id for the engine's life.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .._bpmn.definitions import BPMN_NS, TaskMeta, read_task_meta
from .._bpmn.safe_xml import parse_xml_bytes
from .._bpmn.steps import ordered_steps
from .._config.catalogue import Limit
from .._errors import ConfigError, NotFoundError
from .._store.models import DefinitionRow
from .._time.workcalendar import parse_limit
from .views import ProcessStep

__all__ = ["Outline", "load_outline", "mark_steps", "outline_of"]


@dataclass(frozen=True)
class Outline:
    names_en: dict[str, str]  # bpmn id -> English name, of the version's own and its called processes' nodes
    steps: tuple[ProcessStep, ...]

    def name_en(self, bpmn_id: str) -> str:
        return self.names_en.get(bpmn_id, "")


def load_outline(session: Session, definition_id: int, cache: dict[int, Outline]) -> Outline:
    found = cache.get(definition_id)
    if found is not None:
        return found
    row = session.execute(
        select(
            DefinitionRow.bpmn_xml,
            DefinitionRow.bpmn_file,
            DefinitionRow.process_id,
            DefinitionRow.called_bpmn,
            DefinitionRow.lane_sections,
        ).where(DefinitionRow.id == definition_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"process definition {definition_id} not found", kind="definition", key=str(definition_id))
    outline = cache[definition_id] = outline_of(row)
    return outline


def outline_of(row: Any) -> Outline:
    """The outline of a definition row (a ``DefinitionRow`` or a row of its columns)."""
    called = {name: text.encode("utf-8") for name, text in (row.called_bpmn or {}).items()}
    return build_outline(row.bpmn_xml, row.bpmn_file, row.process_id, called, dict(row.lane_sections or {}))


def build_outline(
    bpmn_xml: bytes, filename: str, process_id: str, called: dict[str, bytes], lane_sections: dict[str, str]
) -> Outline:
    names: dict[str, str] = {}
    own: list[TaskMeta] = []
    for name, xml in [*called.items(), (filename, bpmn_xml)]:  # the matter's own file last: its names win
        root = parse_xml_bytes(xml, filename=name).getroot()
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            nodes = read_task_meta(process)
            names.update({k: m.name_en for k, m in nodes.items() if m.name_en})
            if name == filename and process.get("id") == process_id:
                own = ordered_steps(process, nodes)
    steps = tuple(_step(i, meta, lane_sections) for i, meta in enumerate(own, 1))
    return Outline(names, steps)


def _step(number: int, meta: TaskMeta, lane_sections: dict[str, str]) -> ProcessStep:
    return ProcessStep(
        number=number,
        bpmn_id=meta.id,
        name=meta.name,
        name_en=meta.name_en,
        lane=meta.lane,
        lane_en=meta.lane_en,
        section=lane_sections.get(meta.lane or ""),  # "" is the key of tasks outside every lane: the lead's
        limit=_limit(meta.step_limit),
        kind=meta.tag,
    )


def _limit(text: str | None) -> Limit | None:
    if not text:
        return None
    try:
        value, unit = parse_limit(text)
    except ConfigError:
        return None  # deploy refuses such a limit; an old version's is shown without one rather than failing
    return Limit(value, unit.value)


def mark_steps(steps: Iterable[ProcessStep], done: frozenset[str], current: frozenset[str]) -> tuple[ProcessStep, ...]:
    """The steps with a case's progress: ``current`` where it is now (again, in a loop), else ``done``."""
    return tuple(
        replace(s, state="current" if s.bpmn_id in current else "done" if s.bpmn_id in done else "") for s in steps
    )
