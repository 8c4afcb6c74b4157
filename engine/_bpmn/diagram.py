"""Render a BPMN file's diagram to a standalone SVG, server-side: no JavaScript, nothing loaded from outside.

The picture comes from the file's diagram interchange (BPMN DI): ``bpmndi:BPMNShape`` bounds,
``bpmndi:BPMNEdge`` waypoints and ``bpmndi:BPMNLabel`` bounds, as the modeller drew them. Of several
diagrams, the first plane showing the collaboration or a process is drawn (``process_id``'s when given).
A case's progress can be overlaid: ``done`` flow nodes get a green fill (tasks a tick), ``current`` ones
a thick orange border, and sequence flows leaving a done node are drawn darker than the rest.

Each drawn element is a ``<g>`` with ``data-element-id`` (the BPMN id), a class (``bpmn-task``,
``bpmn-gateway``, ``bpmn-event``, ``bpmn-lane``, ``bpmn-pool``, ``bpmn-flow`` …, plus ``done`` /
``current``) and a ``<title>`` holding the element's name, so a page can style it and show names on hover.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import NamedTuple

from lxml import etree

from .._errors import DeploymentError, Problem
from . import diagram_shapes as draw
from .diagram_shapes import INK, SVG_NS, Attr, el, fit_lines, text_block, text_width, wrap_lines
from .safe_xml import parse_xml_bytes

__all__ = ["choose_plane", "render_svg"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
_BIOC, _COLOR = "{http://bpmn.io/schema/bpmn/biocolor/1.0}", "{http://www.omg.org/spec/BPMN/non-normative/color/1.0}"
TASKS = {"task", "userTask", "scriptTask", "serviceTask", "manualTask", "sendTask", "receiveTask"}
TASKS |= {"businessRuleTask", "callActivity"}
SUBPROCESSES = {"subProcess", "adHocSubProcess", "transaction"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
DATA = {"dataObjectReference", "dataObject", "dataInput", "dataOutput", "dataStoreReference", "dataStore"}
LABEL, TASK_FONT = 11.0, 12.0
Model = dict[str, etree._Element]
NO_DI = "no diagram interchange (BPMNDiagram) to render"


class Box(NamedTuple):
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class Item:
    """One BPMNShape (with ``box``) or BPMNEdge (with ``points``) of the plane and the element it shows."""

    di: etree._Element
    eid: str
    node: etree._Element | None
    kind: str
    box: Box | None
    label: Box | None
    points: list[tuple[float, float]]


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _float(value: str | None) -> float | None:
    try:
        out = float(value or "")
    except ValueError:
        return None
    return out if math.isfinite(out) else None


def _box(parent: etree._Element | None) -> Box | None:
    bounds = None if parent is None else parent.find("{*}Bounds")
    if bounds is None:
        return None
    x, y, w, h = (_float(bounds.get(k)) for k in ("x", "y", "width", "height"))
    if x is None or y is None or w is None or h is None:
        return None
    return Box(x, y, max(w, 0.0), max(h, 0.0))


def _index(root: etree._Element) -> Model:
    """Model elements by id (the first wins: some vendors' extension elements reuse ids)."""
    model: Model = {}
    for node in root.iter(f"{{{BPMN_NS}}}*"):
        if eid := node.get("id"):
            model.setdefault(eid, node)
    return model


def choose_plane(root: etree._Element, process_id: str | None = None) -> etree._Element | None:
    """The plane to draw: ``process_id``'s own, or a collaboration's holding it, or else the first showing a
    collaboration or a process. Planes without shapes (bpmn.io's drill-down pages) are passed over."""
    model = _index(root)
    planes = [p for p in root.iter(f"{{{BPMNDI_NS}}}BPMNPlane") if p.find(f".//{{{BPMNDI_NS}}}*") is not None]
    nodes = [model.get(p.get("bpmnElement") or "") for p in planes]
    pairs = [(p, n) for p, n in zip(planes, nodes, strict=True) if n is not None]
    holding = [p for p, n in pairs if process_id and process_id in _holds(n)]
    showing = [p for p, n in pairs if _local(n) in ("collaboration", "process")]
    return next(iter(holding + showing + planes), None)


def _holds(node: etree._Element) -> set[str | None]:
    """The process ids a plane's element shows: its own, or its participants' processes."""
    return {node.get("id"), *(p.get("processRef") for p in node.iter(f"{{{BPMN_NS}}}participant"))}


def _clip(box: Box, toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from the centre of ``box`` to ``toward`` leaves the box."""
    dx, dy = toward[0] - box.cx, toward[1] - box.cy
    t = min(box.w / 2 / abs(dx) if dx else math.inf, box.h / 2 / abs(dy) if dy else math.inf, 1.0)
    return (box.cx + dx * t, box.cy + dy * t)


def _read_plane(plane: etree._Element, model: Model) -> list[Item]:
    items = []
    for di in plane.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge"):
        node = model.get(di.get("bpmnElement") or "")
        label = _box(di.find(f"{{{BPMNDI_NS}}}BPMNLabel"))
        is_edge = _local(di) == "BPMNEdge"
        coords = [(_float(wp.get("x")), _float(wp.get("y"))) for wp in di.iterfind("{*}waypoint")]
        points = [(x, y) for x, y in coords if x is not None and y is not None]
        kind = _local(node) if node is not None else ("edge" if is_edge else "unknown")
        label, eid = (label if label and label.w and label.h else None), di.get("bpmnElement") or di.get("id") or ""
        items.append(Item(di, eid, node, kind, None if is_edge else _box(di), label, points))
    # Some exporters write (0, 0) for a waypoint they could not place: attach it to the shape's border instead.
    boxes = {i.eid: i.box for i in items if i.box is not None}
    for item in items:
        if item.node is not None and len(item.points) >= 2:
            for end, ref, near in ((0, "sourceRef", 1), (-1, "targetRef", -2)):
                box = boxes.get(item.node.get(ref) or "")
                if item.points[end] == (0.0, 0.0) and box is not None and (box.x > 0 or box.y > 0):
                    item.points[end] = _clip(box, item.points[near])
    return items


_NAME_EN = tuple(
    f"{{{BPMN_NS}}}extensionElements/{{{ns}}}properties/{{{ns}}}property"
    for ns in ("http://spiffworkflow.org/bpmn/schema/1.0/core", "http://camunda.org/schema/1.0/bpmn")
)


def _name_en(node: etree._Element) -> str:
    """The element's ``name_en`` extension property (spiffworkflow:property or camunda:property), or ""."""
    for path in _NAME_EN:
        for prop in node.iterfind(path):
            if prop.get("name") == "name_en" and (value := (prop.get("value") or "").strip()):
                return value
    return ""


def _name(node: etree._Element | None, model: Model, english: bool = False) -> str:
    """What the element is labelled: on an English diagram its ``name_en`` (any element may carry one: task,
    event, gateway, sequence flow, lane, pool), else its name."""
    if node is None:
        return ""
    if english and (name_en := _name_en(node)):
        return name_en
    if _local(node) == "textAnnotation":
        return "".join(t.text or "" for t in node.iterfind(f"{{{BPMN_NS}}}text")).strip()
    if _local(node) == "group":
        value = model.get(node.get("categoryValueRef") or "")
        return (value.get("value") or "").strip() if value is not None else ""
    name = node.get("name") or ""
    for ref in ("dataObjectRef", "dataStoreRef", "processRef"):
        if not name and (target := model.get(node.get(ref) or "")) is not None:
            name = target.get("name") or ""
    return name.strip()


def _widest_word(text: str, size: float) -> float:
    return max((text_width(word, size) for word in text.split()), default=0.0)


def render_svg(
    bpmn_xml: bytes,
    *,
    filename: str = "diagram.bpmn",
    done: Collection[str] = (),
    current: Collection[str] = (),
    process_id: str | None = None,
    title: str | None = None,
    english: bool = False,
) -> str:
    """The diagram of ``bpmn_xml`` as one ``<svg>`` document; ``DeploymentError`` when it has no DI.
    ``english``: label each element with its ``name_en`` where it has one (the English pages)."""
    root = parse_xml_bytes(bpmn_xml, filename=filename).getroot()
    plane = choose_plane(root, process_id)
    model = _index(root)
    items = [] if plane is None else _read_plane(plane, model)
    items = [i for i in items if i.box is not None or len(i.points) >= 2 or i.kind == "sequenceFlow"]
    if plane is None or not items:
        raise DeploymentError([Problem(filename, NO_DI)])
    if title is None:
        shown = model.get(process_id or plane.get("bpmnElement") or "")
        candidates = [] if shown is None else [shown, *shown.iter(f"{{{BPMN_NS}}}participant")]
        title = next((name for c in candidates if (name := _name(c, model, english))), None)
    prefix = "ow" + hashlib.sha1(bpmn_xml).hexdigest()[:8]
    renderer = _Renderer(model, items, set(done), set(current), prefix, english=english)
    return renderer.render(title, plane.get("id") or "")


class _Renderer:
    def __init__(
        self, model: Model, items: list[Item], done: set[str], current: set[str], prefix: str, *, english: bool
    ) -> None:
        self.model, self.items, self.prefix, self.english = model, items, prefix, english
        self.done, self.current, self.highlight = done, current, bool(done or current)
        self.extent = [math.inf, math.inf, -math.inf, -math.inf]
        shown = {i.eid for i in items}
        # A sub-process is expanded when DI says so or, DI being silent, when its children are drawn here.
        self.has_children = {i.eid for i in items if i.node is not None and any(c.get("id") in shown for c in i.node)}

    def grow(self, x0: float, y0: float, x1: float, y1: float) -> None:
        e = self.extent
        self.extent = [min(e[0], x0), min(e[1], y0), max(e[2], x1), max(e[3], y1)]

    def render(self, title: str | None, plane_id: str) -> str:
        svg = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS})
        if title:
            el(svg, "title", title)
        draw.arrow_markers(el(svg, "defs"), self.prefix)
        names = ("containers", "edges", "nodes", "events", "labels")
        layers = {n: el(svg, "g", class_=f"bpmn-layer-{n}") for n in names}
        order = {"participant": 0, "process": 0, "lane": 1}
        containers = [i for i in self.items if i.box and (i.kind in order or self.expanded(i))]
        containers.sort(key=lambda i: (order.get(i.kind, 2), -(i.box.w * i.box.h) if i.box else 0))
        for item in containers:
            self.shape(item, layers["containers"], layers["labels"])
        drawn = {id(i) for i in containers}
        for item in self.items:
            if item.box is None:
                self.edge(item, layers["edges"], layers["labels"])
            elif id(item) not in drawn:
                top = item.kind in EVENTS or item.kind in GATEWAYS or item.kind == "group"
                self.shape(item, layers["events" if top else "nodes"], layers["labels"])
        x0, y0, x1, y1 = self.extent if self.extent[0] <= self.extent[2] else [0.0, 0.0, 100.0, 100.0]
        width, height = x1 - x0 + 40, y1 - y0 + 40
        view_box = " ".join(draw.num(v) for v in (x0 - 20, y0 - 20, width, height))
        svg.attrib.update({"width": draw.num(width), "height": draw.num(height), "viewBox": view_box, "role": "img"})
        svg.attrib.update({"font-family": draw.FONT_FAMILY, "font-size": "12", "class": "bpmn-diagram"})
        svg.set("data-plane-id", plane_id)
        return etree.tostring(svg, encoding="unicode")

    def group(self, layer: etree._Element, cls: str, item: Item, name: str) -> etree._Element:
        state = [s for s, ids in (("done", self.done), ("current", self.current)) if item.eid in ids]
        g = el(layer, "g", class_=" ".join([cls, *state]), data_element_id=item.eid)
        el(g, "title", name or (f"{item.kind} {item.eid}" if item.node is not None else item.eid))
        return g

    def paint(self, item: Item, fill: str = draw.WHITE, width: float = 1.5) -> dict[str, Attr]:
        """Fill and stroke: orange when current, green when done, else the DI colours or the defaults."""
        if item.eid in self.current:
            return {"fill": draw.CURRENT_FILL, "stroke": draw.CURRENT_STROKE, "stroke_width": max(width, 3.5)}
        if item.eid in self.done:
            return {"fill": draw.DONE_FILL, "stroke": draw.DONE_STROKE, "stroke_width": max(width, 2.0)}
        di_fill = draw.safe_colour(item.di.get(f"{_BIOC}fill") or item.di.get(f"{_COLOR}background-color"))
        di_stroke = draw.safe_colour(item.di.get(f"{_BIOC}stroke") or item.di.get(f"{_COLOR}border-color"))
        return {"fill": di_fill or fill, "stroke": di_stroke or INK, "stroke_width": width}

    def expanded(self, item: Item) -> bool:
        if item.kind not in SUBPROCESSES and item.kind != "callActivity":
            return False
        flag = item.di.get("isExpanded")
        return flag == "true" or (flag is None and item.kind != "callActivity" and item.eid in self.has_children)

    def label(self, layer: etree._Element, item: Item, name: str, under: Box | None) -> None:
        """An external label: inside its DI label bounds, else centred under the shape."""
        box = item.label or under
        if not name or box is None:
            return
        # never narrower than its longest word: DI label bounds drawn for Chinese would split English words
        widest = _widest_word(name, LABEL)
        if box is item.label:
            lines, top = fit_lines(name, max(box.w + 8, 40.0, widest), 1e4, LABEL), box.y
            if item.box is not None and box.bottom <= item.box.y + 1:
                # Bounds above the shape (a gateway whose branch leaves downwards): the text sits on the
                # shape, not at the top of bounds made tall enough for the name in the other language.
                top = max(box.y, box.bottom - len(lines) * LABEL * draw.LINE_HEIGHT)
        else:
            lines, top = fit_lines(name, max(box.w, 90.0, widest), 1e4, LABEL), box.bottom + 4
        cx = box.cx
        text_block(el(layer, "g", class_="bpmn-label", data_label_for=item.eid), lines, cx, size=LABEL, top=top)
        half = max(text_width(line, LABEL) for line in lines) / 2
        self.grow(cx - half, top, cx + half, top + len(lines) * LABEL * draw.LINE_HEIGHT)

    # -- shapes --------------------------------------------------------------------------------------------
    def shape(self, item: Item, layer: etree._Element, labels: etree._Element) -> None:
        b, kind, node = item.box, item.kind, item.node
        assert b is not None
        self.grow(b.x, b.y, b.right, b.bottom)
        name = _name(node, self.model, self.english)
        if node is not None and (kind in TASKS or kind in SUBPROCESSES):
            self.activity(item, b, node, self.group(layer, "bpmn-task", item, name), name)
        elif node is not None and kind in EVENTS:
            g = self.group(layer, "bpmn-event", item, name)
            dashed = node.get("cancelActivity") == "false" or node.get("isInterrupting") == "false"
            style = self.paint(item, width=4.0 if kind == "endEvent" else 1.5)
            draw.event_shape(g, kind, b, {**style, "stroke_dasharray": "4 2.5" if dashed else None})
            defs = [_local(d) for d in node if isinstance(d.tag, str) and _local(d).endswith("EventDefinition")]
            refs = (self.model.get((r.text or "").strip()) for r in node.iterfind(f"{{{BPMN_NS}}}eventDefinitionRef"))
            defs += [_local(t) for t in refs if t is not None]
            if defs:
                marker = defs[0].removesuffix("EventDefinition") if len(defs) == 1 else "multiple"
                throw = kind in ("endEvent", "intermediateThrowEvent")
                draw.event_marker(g, marker, b.cx, b.cy, min(b.w, b.h) / 2, throw)
            self.label(labels, item, name, b)
        elif kind in GATEWAYS:
            g = self.group(layer, "bpmn-gateway", item, name)
            diamond = [(b.cx, b.y), (b.right, b.cy), (b.cx, b.bottom), (b.x, b.cy)]
            el(g, "polygon", points=draw.points_attr(diamond), **self.paint(item))
            draw.gateway_marker(g, kind, b.cx, b.cy, min(b.w, b.h), item.di.get("isMarkerVisible") != "false")
            self.label(labels, item, name, b)
        elif kind in ("participant", "lane"):
            pool = kind == "participant"
            g = self.group(layer, "bpmn-pool" if pool else "bpmn-lane", item, name)
            draw.rect(g, b, **self.paint(item, draw.WHITE if pool else "none", 1.5 if pool else 1))
            draw.swimlane_band(g, name, b, pool, item.di.get("isHorizontal") != "false")
        elif node is not None and kind in DATA:
            store = "Store" in kind
            g = self.group(layer, "bpmn-data-store" if store else "bpmn-data-object", item, name)
            (draw.data_store if store else draw.data_object)(g, b.x, b.y, b.w, b.h, self.paint(item))
            if kind in ("dataInput", "dataOutput"):
                draw.data_io(g, b.x, b.y, output=kind == "dataOutput")
            ref = self.model.get(node.get("dataObjectRef") or "")
            if "true" in (node.get("isCollection"), ref.get("isCollection") if ref is not None else None):
                draw.activity_markers(g, ["parallel"], b.cx, b.bottom + 1)
            self.label(labels, item, name, b)
        elif kind == "textAnnotation":
            g = self.group(layer, "bpmn-annotation", item, name)
            draw.path(g, f"M{draw.pt(b.x + 10, b.y)} H{draw.num(b.x)} V{draw.num(b.bottom)} H{draw.num(b.x + 10)}")
            text_block(g, wrap_lines(name, b.w - 8, LABEL), b.x + 5, size=LABEL, top=b.y + 2, anchor="start")
        elif kind == "group":
            g = self.group(layer, "bpmn-group", item, name)
            draw.rect(g, b, rx=10, **{**draw.THIN, "stroke_width": 1.5, "stroke_dasharray": "10 4 2 4"})
            if item.label is None and name:
                text_block(g, wrap_lines(name, b.w, LABEL), b.cx, size=LABEL, top=b.y + 3)
            self.label(labels, item, name, None)
        elif kind == "message":
            draw.envelope(self.group(layer, "bpmn-message", item, name), b.cx, b.cy, b.w, filled=False)
            self.label(labels, item, name, b)
        else:  # a process drawn as a shape, a conversation, a choreography…: a plain rectangle
            g = self.group(layer, "bpmn-process" if kind == "process" else "bpmn-unknown", item, name)
            draw.rect(g, b, **{**draw.THIN, "stroke": "#7b8794"})
            if kind != "process":
                text_block(g, fit_lines(name, b.w - 8, b.h - 4, LABEL), b.cx, size=LABEL, center_y=b.cy)

    def activity(self, item: Item, b: Box, node: etree._Element, g: etree._Element, name: str) -> None:
        kind = item.kind
        if kind in SUBPROCESSES:
            g.set("class", g.get("class", "").replace("bpmn-task", "bpmn-task bpmn-subprocess"))
        style = self.paint(item, width=3.5 if kind == "callActivity" else 1.5)
        r = min(10.0, b.w / 6, b.h / 6)
        dash = "2 3" if node.get("triggeredByEvent") == "true" else None
        draw.rect(g, b, rx=r, stroke_dasharray=dash, **style)
        if kind == "transaction":
            inner = (b.x + 3, b.y + 3, b.w - 6, b.h - 6)
            draw.rect(g, inner, rx=max(r - 3, 0), **{**draw.THIN, "stroke": style["stroke"]})
        expanded = self.expanded(item)
        markers = []
        if node.find(f"{{{BPMN_NS}}}standardLoopCharacteristics") is not None:
            markers.append("loop")
        elif (multi := node.find(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics")) is not None:
            markers.append("sequential" if multi.get("isSequential") == "true" else "parallel")
        markers += ["collapsed"] if kind in SUBPROCESSES and not expanded else []
        markers += ["adhoc"] if kind == "adHocSubProcess" else []
        draw.activity_markers(g, markers, b.cx, b.bottom)
        icon = kind in TASKS and kind not in ("task", "callActivity")
        if icon:
            draw.task_icon(g, kind, b.x, b.y)
        if expanded:
            text_block(g, wrap_lines(name, b.w - 16, TASK_FONT), b.x + 8, size=TASK_FONT, top=b.y + 4, anchor="start")
        elif name:
            self.task_text(g, name, b, icon, bool(markers))
        if item.eid in self.done:
            draw.tick(g, b.right - 10, b.y + 10)

    def task_text(self, g: etree._Element, name: str, b: Box, icon: bool, markers: bool) -> None:
        """The name wrapped inside the box, clear of the type icon (top left) and the markers (bottom)."""
        top, bottom = b.y + 4, b.bottom - (19 if markers else 4)
        sizes = (TASK_FONT, TASK_FONT - 1, TASK_FONT - 2)
        # a smaller font first where the larger would split a word (English names in a box sized for Chinese)
        whole = [size for size in sizes if _widest_word(name, size) <= b.w - 12]
        for size in whole + [size for size in sizes if size not in whole]:
            lines = fit_lines(name, b.w - 12, bottom - top, size)
            height = len(lines) * size * draw.LINE_HEIGHT
            y = (top + bottom) / 2 - height / 2
            clash = icon and y < b.y + 22 and b.cx - text_width(lines[0], size) / 2 < b.x + 23
            if clash and b.y + 22 + height <= bottom:
                y, clash = b.y + 22, False
            if not clash:
                break
        text_block(g, lines, b.cx, size=size, top=y)

    # -- edges ---------------------------------------------------------------------------------------------
    def edge(self, item: Item, layer: etree._Element, labels: etree._Element) -> None:
        node, kind, pts, m = item.node, item.kind, item.points, self.prefix
        name = _name(node, self.model, self.english)
        style: dict[str, Attr] = {"stroke": INK, "stroke_width": 1.2}
        if kind == "sequenceFlow" and node is not None:
            source = self.model.get(node.get("sourceRef") or "")
            done = node.get("sourceRef") in self.done
            g = self.group(layer, "bpmn-flow done" if done else "bpmn-flow", item, name)
            tone = "done" if done else "pale" if self.highlight else ""
            colour = {"done": draw.FLOW_DONE, "pale": draw.FLOW_PALE}.get(tone, draw.FLOW)
            style = {"stroke": colour, "stroke_width": 2.2 if done else 1.5}
            style["marker_end"] = f"url(#{m}-arrow{tone and '-'}{tone})"
            conditional = node.find(f"{{{BPMN_NS}}}conditionExpression") is not None
            if conditional and source is not None and _local(source) in TASKS | SUBPROCESSES:
                style["marker_start"] = f"url(#{m}-diamond)"
            if source is not None and source.get("default") == item.eid and len(pts) >= 2:
                draw.default_slash(g, pts[0], pts[1], colour)
        elif kind == "messageFlow":
            g = self.group(layer, "bpmn-message-flow", item, name)
            style.update(stroke_dasharray="6 3", marker_start=f"url(#{m}-circle)", marker_end=f"url(#{m}-open-arrow)")
        elif kind in ("association", "dataInputAssociation", "dataOutputAssociation"):
            g = self.group(layer, "bpmn-association", item, name)
            style.update(stroke_dasharray="1.5 3", stroke_linecap="round", stroke_width=1.5)
            direction = node.get("associationDirection") if node is not None else None
            if kind != "association" or direction in ("One", "Both"):
                style["marker_end"] = f"url(#{m}-line-arrow)"
            if direction == "Both":
                style["marker_start"] = f"url(#{m}-line-arrow)"
        else:
            g = self.group(layer, "bpmn-edge", item, name)
        if len(pts) >= 2:
            el(g, "polyline", points=draw.points_attr(pts), fill="none", stroke_linejoin="round", **style)
            for x, y in pts:
                self.grow(x, y, x, y)
            self.edge_label(labels, item, name)

    def edge_label(self, labels: etree._Element, item: Item, name: str) -> None:
        """In the DI label bounds; else beside the middle of the flow (above it, or right of a vertical part)."""
        if item.label is not None or not name:
            self.label(labels, item, name, None)
            return
        pts = item.points
        lengths = [math.hypot(q[0] - p[0], q[1] - p[1]) for p, q in itertools.pairwise(pts)]
        half = sum(lengths) / 2
        i = 0
        while i < len(lengths) - 1 and half > lengths[i]:
            half -= lengths[i]
            i += 1
        (px, py), (qx, qy) = pts[i], pts[i + 1]
        t = min(half / lengths[i], 1.0) if lengths[i] else 0.0
        mx, my, vertical = px + (qx - px) * t, py + (qy - py) * t, abs(qy - py) > abs(qx - px)
        lines = fit_lines(name, 110.0, 1e4, LABEL)
        height = len(lines) * LABEL * draw.LINE_HEIGHT
        widest = max(text_width(line, LABEL) for line in lines)
        g = el(labels, "g", class_="bpmn-label", data_label_for=item.eid)
        if vertical:
            text_block(g, lines, mx + 5, size=LABEL, center_y=my, anchor="start")
            self.grow(mx, my - height / 2, mx + 5 + widest, my + height / 2)
        else:
            text_block(g, lines, mx, size=LABEL, top=my - height - 2)
            self.grow(mx - widest / 2, my - height - 2, mx + widest / 2, my)
