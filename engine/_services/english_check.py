"""``deploy --check``'s warnings about English names: a matter deploys without them, but its English pages then
show the Chinese, so the designer is told where each one is missing (warnings, never problems).

What is checked: the catalogue's ``name_en`` of the matter and of each material; the ``name_en`` property of
each step (user task, call activity …) of the matter's processes and of each lane whose section has no English
name in ``bureau.toml``; ``x-title-en`` beside every title of the matter's forms.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from .._bpmn.definitions import BPMN_NS, SPIFF_NS, TaskMeta
from .._bpmn.steps import STEP_TAGS
from .._config.bureau import Bureau
from .._config.catalogue import Matter
from .._config.describe import EN_TITLE
from .._errors import Problem

__all__ = ["english_warnings"]

SHOWN = 3  # a form's untranslated titles named in its warning, the rest counted


def english_warnings(
    catalogue: Path,
    matter: Matter,
    parts: list[tuple[Path, etree._Element, dict[str, TaskMeta]]],
    lane_sections: Mapping[str, str],
    forms: Mapping[str, Any],
    forms_dir: Path,
    bureau: Bureau,
) -> list[Problem]:
    out: list[Problem] = []
    if not matter.name_en.strip():
        out.append(_missing(str(catalogue), f"the matter '{matter.name}' has no English name (name_en)", "name_en"))
    untranslated = [m.code for m in matter.materials if not m.name_en.strip()]
    if untranslated:
        out.append(
            _missing(
                str(catalogue), f"material(s) {', '.join(untranslated)} have no English name (name_en)", "materials"
            )
        )
    for file, process, nodes in parts:
        for meta in nodes.values():
            if meta.tag in STEP_TAGS and not meta.name_en:
                what = f"{_words(meta.tag)} '{meta.name}' has no English name (property name_en)"
                out.append(_missing(str(file), what, meta.id, meta.line))
        for lane in process.iter(f"{{{BPMN_NS}}}lane"):
            out += _lane(file, lane, lane_sections, bureau)
    for name, schema in forms.items():
        missing = list(_untitled(schema, ""))
        if missing:
            more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
            what = f"{len(missing)} title(s) have no English ({EN_TITLE}): {', '.join(missing[:SHOWN])}{more}"
            out.append(_missing(str(forms_dir / name), what, missing[0]))
    return out


def _lane(file: Path, lane: etree._Element, lane_sections: Mapping[str, str], bureau: Bureau) -> list[Problem]:
    if lane.find(f"{{{BPMN_NS}}}childLaneSet") is not None:
        return []  # a lane that only groups other lanes is named by them
    own = lane.find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property[@name='name_en']")
    if own is not None and (own.get("value") or "").strip():
        return []
    name = (lane.get("name") or "").strip()
    section = bureau.section(lane_sections.get(name, ""))
    if section is not None and section.name_en:
        return []  # named by its section's English name
    what = f"lane '{name or lane.get('id')}' has no English name (property name_en) and its section has none either"
    return [_missing(str(file), what, lane.get("id"), lane.sourceline)]


def _untitled(node: Any, where: str) -> Iterator[str]:
    """Paths of a form's titles without ``x-title-en`` (properties/name, properties/name/oneOf/0 …)."""
    if isinstance(node, dict):
        if isinstance(node.get("title"), str) and not str(node.get(EN_TITLE) or "").strip():
            yield where or "(form)"
        for key, value in node.items():
            yield from _untitled(value, f"{where}/{key}" if where else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _untitled(value, f"{where}/{i}")


def _missing(file: str, what: str, element: str | None, line: int | None = None) -> Problem:
    return Problem(file, f"{what}: English pages show the Chinese", line=line, element=element)


def _words(tag: str) -> str:
    return "".join(" " + c.lower() if c.isupper() else c for c in tag).strip()
