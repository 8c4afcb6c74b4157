"""The drawn processes (patterns, templates, the matter made from one) place every external label clear of
the others, of the shapes and of the flows, in Chinese and in English: the builder writes label bounds
(``bpmndi:BPMNLabel``) instead of leaving them to each modeller, which put two branches' names on top of
each other where they leave a gateway down the same line."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import NamedTuple

import pytest
from lxml import etree

from onewindow.engine._bpmn.builder import _label_size

ROOT = Path(__file__).resolve().parents[1] / "processes"
DRAWN = sorted(
    [*ROOT.glob("patterns/*.bpmn"), *ROOT.glob("templates/*.bpmn"), ROOT / "individual_business_registration.bpmn"]
)
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
DI = "{http://www.omg.org/spec/DD/20100524/DI}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


class Rect(NamedTuple):
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Rect) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )

    def crossed_by(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """An axis-parallel segment passing through the inside of the box (touching its edge does not count)."""
        (x0, y0), (x1, y1) = a, b
        if abs(y0 - y1) < 1e-6:
            return self.y < y0 < self.y + self.h and min(x0, x1) < self.x + self.w and max(x0, x1) > self.x
        return self.x < x0 < self.x + self.w and min(y0, y1) < self.y + self.h and max(y0, y1) > self.y


def _bounds(element: etree._Element) -> Rect:
    b = element.find(f"{DC}Bounds")
    assert b is not None
    return Rect(*(float(b.get(k) or 0) for k in ("x", "y", "width", "height")))


def _drawing(path: Path) -> tuple[dict[str, Rect], dict[str, Rect], dict[str, list[tuple[float, float]]]]:
    root = etree.parse(str(path)).getroot()
    kinds = {e.get("id"): etree.QName(e).localname for e in root.iter() if e.get("id")}
    shapes: dict[str, Rect] = {}
    labels: dict[str, Rect] = {}
    edges: dict[str, list[tuple[float, float]]] = {}
    for shape in root.iter(f"{BPMNDI}BPMNShape"):
        element = shape.get("bpmnElement") or ""
        if kinds.get(element) not in ("participant", "lane"):
            shapes[element] = _bounds(shape)
        if (label := shape.find(f"{BPMNDI}BPMNLabel")) is not None:
            labels[element] = _bounds(label)
    for edge in root.iter(f"{BPMNDI}BPMNEdge"):
        element = edge.get("bpmnElement") or ""
        edges[element] = [(float(p.get("x") or 0), float(p.get("y") or 0)) for p in edge.iter(f"{DI}waypoint")]
        if (label := edge.find(f"{BPMNDI}BPMNLabel")) is not None:
            labels[element] = _bounds(label)
    return shapes, labels, edges


@pytest.mark.parametrize("path", DRAWN, ids=lambda p: p.name)
def test_every_external_label_has_bounds_clear_of_the_rest(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    shapes, labels, edges = _drawing(path)
    external = ("Event", "Gateway", "sequenceFlow")  # labelled outside their shape
    named = {str(e.get("id")) for e in root.iter() if e.get("name") and etree.QName(e).localname.endswith(external)}
    assert named and named <= set(labels), sorted(named - set(labels))
    for (a, box_a), (b, box_b) in itertools.combinations(labels.items(), 2):
        assert not box_a.overlaps(box_b), f"{path.name}: the labels of {a} and {b} overlap"
    for owner, box in labels.items():
        for element, shape in shapes.items():
            assert not box.overlaps(shape), f"{path.name}: the label of {owner} lies on {element}"
        for flow, points in edges.items():
            for start, end in itertools.pairwise(points):
                assert not box.crossed_by(start, end), f"{path.name}: flow {flow} runs through the label of {owner}"


@pytest.mark.parametrize("path", DRAWN, ids=lambda p: p.name)
def test_a_label_has_room_for_its_english_name(path: Path) -> None:
    """Each label's bounds hold its Chinese and its English name as the worklist's diagram wraps them."""
    root = etree.parse(str(path)).getroot()
    _shapes, labels, _edges = _drawing(path)
    for element in root.iter():
        eid = element.get("id")
        if eid not in labels:
            continue
        name_en = next(
            (p.get("value") or "" for p in element.iter(f"{SPIFF}property") if p.get("name") == "name_en"), ""
        )
        _width, height = _label_size(element.get("name") or "", name_en, labels[eid].w)
        assert labels[eid].h >= height, f"{path.name}: {eid}'s label is too low for '{name_en}'"
