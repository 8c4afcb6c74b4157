"""The shipped approval patterns (processes/patterns/*.bpmn) are exactly what processes/patterns/draw.py draws,
English names (``name_en``) included, so redrawing a pattern never drops a hand edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from onewindow.processes.patterns.draw import PATTERNS

PATTERN_DIR = Path(__file__).resolve().parents[1] / "processes" / "patterns"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


@pytest.mark.parametrize("file_name", sorted(PATTERNS))
def test_the_shipped_pattern_is_what_draw_py_draws(file_name: str) -> None:
    # regenerate with: python -m onewindow.processes.patterns.draw
    assert (PATTERN_DIR / file_name).read_bytes() == PATTERNS[file_name]()


def test_draw_py_draws_every_shipped_pattern() -> None:
    assert {p.name for p in PATTERN_DIR.glob("*.bpmn")} == set(PATTERNS)


@pytest.mark.parametrize("file_name", sorted(PATTERNS))
def test_every_human_step_of_a_pattern_has_an_english_name(file_name: str) -> None:
    root = etree.fromstring(PATTERNS[file_name]())
    tasks = list(root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask"))
    assert tasks
    for task in tasks:
        names = [p.get("value") for p in task.iter(f"{SPIFF}property") if p.get("name") == "name_en"]
        assert len(names) == 1 and names[0], task.get("id")
