"""Drawing primitives for ``engine.diagram``: SVG elements, text layout, BPMN shapes, markers and icons.

Everything here builds lxml elements, so every piece of designer text is escaped by the serialiser.
Text width is estimated, not measured: a CJK character is about one font-size wide, an ASCII
character about 0.55 of it. Chinese has no spaces, so a line may break between any two CJK
characters, except that closing punctuation never starts a line and opening punctuation never ends one.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

from lxml import etree

__all__ = ["FONT_FAMILY", "SVG_NS", "el", "fit_lines", "text_block", "text_width", "wrap_lines"]

SVG_NS = "http://www.w3.org/2000/svg"
FONT_FAMILY = "'WenQuanYi Micro Hei','Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif"
LINE_HEIGHT = 1.25
INK, WHITE, BAND = "#1f2933", "#ffffff", "#f4f6f8"
DONE_FILL, DONE_STROKE = "#d9f2dd", "#2e7d32"
CURRENT_FILL, CURRENT_STROKE = "#fff3e0", "#ef6c00"
FLOW, FLOW_PALE, FLOW_DONE = "#3d4852", "#9aa5b1", "#1b2631"

Attr = str | float | int | None
Point = tuple[float, float]
THIN: dict[str, Attr] = {"fill": "none", "stroke": INK, "stroke_width": 1}


def num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def pt(x: float, y: float) -> str:
    return f"{num(x)},{num(y)}"


def points_attr(points: Iterable[Point]) -> str:
    return " ".join(pt(x, y) for x, y in points)


def el(parent: etree._Element, tag: str, text: str | None = None, /, **attrs: Attr) -> etree._Element:
    """Append an SVG element; ``class_`` becomes ``class`` and ``stroke_width`` becomes ``stroke-width``."""
    node = etree.SubElement(parent, f"{{{SVG_NS}}}{tag}")
    for key, value in attrs.items():
        if value is not None:
            node.set(key.rstrip("_").replace("_", "-"), num(value) if isinstance(value, float | int) else value)
    if text is not None:
        node.text = text
    return node


def rect(parent: etree._Element, box: tuple[float, float, float, float], **style: Attr) -> etree._Element:
    return el(parent, "rect", x=box[0], y=box[1], width=box[2], height=box[3], **style)


def path(parent: etree._Element, d: str, **style: Attr) -> etree._Element:
    return el(parent, "path", d=d, **({**THIN, **style}))


# -- text ----------------------------------------------------------------------------------------------
_CLOSING = set("，。、；：？！）」』》〉】〕”’,.;:?!)]}%…")
_OPENING = set("（「『《〈【〔“‘([{")


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def char_width(ch: str, size: float) -> float:
    if _wide(ch):
        return size
    if unicodedata.combining(ch) or ch in "\u200b\u200d":
        return 0.0
    return 0.55 * size if ord(ch) < 128 else 0.6 * size


def text_width(text: str, size: float) -> float:
    return sum(char_width(ch, size) for ch in text)


def _tokens(text: str) -> list[str]:
    """Words of narrow characters, single wide characters and spaces; punctuation sticks to its neighbour."""
    raw: list[str] = []
    for ch in text:
        if ch.isspace():
            raw.append(" ")
        elif _wide(ch) or not raw or raw[-1] == " " or _wide(raw[-1][-1]):
            raw.append(ch)
        else:
            raw[-1] += ch
    out: list[str] = []
    carry = ""  # opening punctuation waiting for the token it opens
    for tok in raw:
        if tok == " ":
            out.extend([carry, tok] if carry else [tok])
            carry = ""
        elif all(c in _CLOSING for c in tok) and out and out[-1] != " " and not carry:
            out[-1] += tok
        elif all(c in _OPENING for c in tok):
            carry += tok
        else:
            out.append(carry + tok)
            carry = ""
    return [*out, carry] if carry else out


def wrap_lines(text: str, width: float, size: float) -> list[str]:
    """Greedy line breaking of ``text`` into lines no wider than ``width``; explicit newlines are kept."""
    width, text = max(width, size), text if len(text) <= 1000 else text[:1000] + "…"  # no one reads more in a box
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _tokens(paragraph):
            if token == " ":
                line += " " if line else ""
                continue
            if line and text_width(line + token, size) > width:
                lines.append(line.rstrip())
                line = token
            else:
                line += token
            while text_width(line, size) > width and len(line) > 1:  # a word wider than the box
                cut, used = 0, 0.0
                for ch in line:
                    used += char_width(ch, size)
                    if used > width and cut > 0:
                        break
                    cut += 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return lines


def fit_lines(text: str, width: float, height: float, size: float) -> list[str]:
    """Wrapped lines, balanced, cut to what fits in ``height``; a cut text ends in an ellipsis."""
    return list(_fit_lines(text, width, height, size))


# Diagrams of one bureau repeat their labels (lane names, template steps), and balancing a long lane name
# tries many widths: remembered, a page of many diagrams draws each label once.
@functools.lru_cache(maxsize=4096)
def _fit_lines(text: str, width: float, height: float, size: float) -> tuple[str, ...]:
    return tuple(_fit(text, width, height, size))


def _fit(text: str, width: float, height: float, size: float) -> list[str]:
    lines = wrap_lines(text, width, size)
    most = max(1, int(height // (size * LINE_HEIGHT)))
    if len(lines) <= most:  # balanced: as narrow as the same number of lines allows, so no lone last character
        # … but no narrower than its widest word, which would then be split (an English name: "Applicatio|n")
        widest = max((text_width(t, size) for t in _tokens(text) if t != " "), default=0.0)
        while width - size / 2 >= widest and len(narrower := wrap_lines(text, width - size / 2, size)) == len(lines):
            lines, width = narrower, width - size / 2
        return lines
    last = lines[most - 1]
    while last and text_width(last + "…", size) > width:
        last = last[:-1]
    return [*lines[: most - 1], last + "…"]


def text_block(
    parent: etree._Element,
    lines: Sequence[str],
    x: float,
    *,
    size: float,
    center_y: float = 0.0,
    top: float | None = None,
    anchor: str = "middle",
    **attrs: Attr,
) -> None:
    """Lines of text at ``x`` (per ``anchor``), hanging from ``top`` or else centred on ``center_y``."""
    if not any(lines):
        return
    step = size * LINE_HEIGHT
    top = center_y - step * len(lines) / 2 if top is None else top
    text = el(parent, "text", font_size=size, text_anchor=anchor, fill=INK, **attrs)
    for i, line in enumerate(lines):
        el(text, "tspan", line, x=x, y=top + step * (i + 0.5) + size * 0.36)


# -- markers and icons -----------------------------------------------------------------------------------
def arrow_markers(defs: etree._Element, prefix: str) -> None:
    """Arrowheads (normal, pale, done, open, line), the message-flow start circle, the conditional diamond."""

    def marker(name: str, ref_x: float, w: float = 10) -> etree._Element:
        return el(
            defs,
            "marker",
            id=f"{prefix}-{name}",
            viewBox=f"0 0 {num(w)} 10",
            refX=ref_x,
            refY=5,
            markerWidth=w,
            markerHeight=10,
            markerUnits="userSpaceOnUse",
            orient="auto",
        )

    head = "M0.5,1 L10,5 L0.5,9 Z"
    for name, colour in (("arrow", FLOW), ("arrow-pale", FLOW_PALE), ("arrow-done", FLOW_DONE)):
        path(marker(name, 10), head, fill=colour, stroke=colour)
    path(marker("open-arrow", 10), head, fill=WHITE)
    path(marker("line-arrow", 10), "M1,1 L10,5 L1,9")
    el(marker("circle", 4.5), "circle", cx=5, cy=5, r=3.5, **{**THIN, "fill": WHITE})
    path(marker("diamond", 0.5, 16), "M0.5,5 L8,1 L15.5,5 L8,9 Z", fill=WHITE)


def envelope(parent: etree._Element, cx: float, cy: float, w: float, filled: bool) -> None:
    h = w * 0.68
    x, y = cx - w / 2, cy - h / 2
    rect(parent, (x, y, w, h), **{**THIN, "fill": INK if filled else WHITE})
    path(parent, f"M{pt(x, y)} L{pt(cx, cy + h * 0.12)} L{pt(x + w, y)}", stroke=WHITE if filled else INK)


def task_icon(parent: etree._Element, kind: str, x: float, y: float) -> None:
    """The small type marker in the top-left corner of a task."""
    g = el(parent, "g", class_="bpmn-icon")
    if kind == "userTask":
        el(g, "circle", cx=x + 13, cy=y + 9.5, r=3.6, **{**THIN, "fill": WHITE})
        path(g, f"M{pt(x + 5.5, y + 21)} q0,-7.5 7.5,-7.5 q7.5,0 7.5,7.5 Z", fill=WHITE)
        path(g, f"M{pt(x + 9.6, y + 7.8)} q3.4,2.6 6.8,0", stroke_width=1.1)
    elif kind == "scriptTask":
        path(g, f"M{pt(x + 8, y + 5)} h9 q-3.5,4 0,8 t0,8 h-9 q3.5,-4 0,-8 t0,-8 Z", fill=WHITE)
        path(g, "".join(f"M{pt(x + 9.5, y + dy)} h5.5 " for dy in (9, 13, 17)))
    elif kind == "serviceTask":
        cx, cy = x + 12.5, y + 12.5
        teeth = [(7.0 if (i // 2) % 2 == 0 else 5.0, math.pi * i / 16) for i in range(32)]
        el(
            g,
            "polygon",
            points=points_attr((cx + r * math.cos(a), cy + r * math.sin(a)) for r, a in teeth),
            **{**THIN, "fill": WHITE},
        )
        el(g, "circle", cx=cx, cy=cy, r=2.2, **{**THIN, "fill": WHITE})
    elif kind == "manualTask":
        finger = "a1.4,1.4 0 0 1 0,2.8"
        path(
            g,
            f"M{pt(x + 5, y + 10)} l4,-3.5 h9.5 {finger} h-5 h7 {finger} h-7 h6 {finger} h-6 h4.5 {finger} "
            "h-9 l-4,-1.7 Z",
            fill=WHITE,
        )
    elif kind in ("sendTask", "receiveTask"):
        envelope(g, x + 13, y + 12, 15, filled=kind == "sendTask")
    elif kind == "businessRuleTask":
        rect(g, (x + 5, y + 6, 16, 12), **{**THIN, "fill": WHITE})
        rect(g, (x + 5, y + 6, 16, 3.5), **{**THIN, "fill": "#c9ced6"})
        path(g, f"M{pt(x + 5, y + 13.5)} h16 M{pt(x + 10, y + 9.5)} v8.5")


def activity_markers(parent: etree._Element, markers: Sequence[str], cx: float, bottom: float) -> None:
    """Bottom-centre markers of an activity: loop, multi-instance, collapsed (+), ad-hoc (~)."""
    y = bottom - 10
    for i, kind in enumerate(markers):
        x = cx + 18 * i - 9 * (len(markers) - 1)
        if kind == "collapsed":
            rect(parent, (x - 7, y - 7, 14, 14), **{**THIN, "fill": WHITE})
            cross(parent, x, y, 4.5, 0, width=1.5)
        elif kind == "adhoc":
            path(parent, f"M{pt(x - 6, y + 1)} q3,-5 6,-1 t6,-1", stroke_width=1.5)
        elif kind == "loop":
            path(parent, f"M{pt(x - 3, y + 4)} a5,5 0 1 1 6,0 m0,0 l0,-4 m0,4 l-4,0", stroke_width=1.5)
        else:
            bars = (
                f"M{pt(x - 5, y + d)} h10 " if kind == "sequential" else f"M{pt(x + d, y - 5)} v10 " for d in (-4, 0, 4)
            )
            path(parent, "".join(bars), stroke_width=1.5)


# -- events, gateways, data -------------------------------------------------------------------------------
def _polygon(parent: etree._Element, cx: float, cy: float, s: float, pts: Sequence[Point], filled: bool) -> None:
    el(
        parent,
        "polygon",
        points=points_attr((cx + px * s, cy + py * s) for px, py in pts),
        **{**THIN, "fill": INK if filled else WHITE, "stroke_linejoin": "round"},
    )


_EVENT_POLYGONS: dict[str, list[list[Point]]] = {
    "error": [[(-0.7, 0.8), (-0.3, -0.7), (0.1, 0.1), (0.6, -0.8), (0.3, 0.75), (-0.1, 0.0)]],
    "signal": [[(0, -0.95), (0.85, 0.6), (-0.85, 0.6)]],
    "escalation": [[(0, -0.95), (0.6, 0.8), (0, 0.25), (-0.6, 0.8)]],
    "compensate": [[(-0.9, 0), (0, -0.6), (0, 0.6)], [(0, 0), (0.9, -0.6), (0.9, 0.6)]],
    "link": [[(-0.8, -0.3), (0.2, -0.3), (0.2, -0.7), (0.9, 0), (0.2, 0.7), (0.2, 0.3), (-0.8, 0.3)]],
    "multiple": [[(math.cos(math.pi * (0.4 * i - 0.5)), math.sin(math.pi * (0.4 * i - 0.5))) for i in range(5)]],
}


def _angles(n: int) -> list[float]:
    return [2 * math.pi * i / n for i in range(n)]


def _polar(cx: float, cy: float, r: float, a: float) -> str:
    return pt(cx + r * math.cos(a), cy + r * math.sin(a))


def event_marker(parent: etree._Element, kind: str, cx: float, cy: float, r: float, filled: bool) -> None:
    """The marker inside an event circle: message, timer, error, signal, escalation, terminate, …"""
    s = r * 0.58
    if kind == "message":
        envelope(parent, cx, cy, r * 1.1, filled)
    elif kind == "timer":
        el(parent, "circle", cx=cx, cy=cy, r=s, **{**THIN, "fill": WHITE, "stroke_width": 1.5})
        ticks = "".join(f"M{_polar(cx, cy, s * 0.78, a)} L{_polar(cx, cy, s, a)} " for a in _angles(12))
        path(parent, ticks + f"M{pt(cx, cy - s * 0.7)} L{pt(cx, cy)} L{pt(cx + s * 0.5, cy)}", stroke_width=1.1)
    elif kind in _EVENT_POLYGONS:
        for pts in _EVENT_POLYGONS[kind]:
            _polygon(parent, cx, cy, s * (0.9 if kind == "multiple" else 1), pts, filled)
    elif kind == "terminate":
        el(parent, "circle", cx=cx, cy=cy, r=r * 0.6, fill=INK)
    elif kind == "conditional":
        rect(parent, (cx - s * 0.7, cy - s * 0.85, s * 1.4, s * 1.7), **{**THIN, "fill": WHITE})
        path(parent, "".join(f"M{pt(cx - s * 0.45, cy + s * k)} h{num(s * 0.9)} " for k in (-0.45, -0.1, 0.25, 0.6)))
    elif kind == "cancel":
        cross(parent, cx, cy, s * 0.8, 45, width=3 if filled else 2)


def event_shape(g: etree._Element, kind: str, box: tuple[float, float, float, float], style: dict[str, Attr]) -> None:
    """Start: thin ring; end: thick ring; intermediate and boundary: double ring."""
    x, y, w, h = box
    r = min(w, h) / 2
    el(g, "circle", cx=x + w / 2, cy=y + h / 2, r=r, **style)
    if kind not in ("startEvent", "endEvent"):
        inner = {**style, "fill": "none", "stroke_width": 1}
        el(g, "circle", cx=x + w / 2, cy=y + h / 2, r=max(r - 3, 1), **inner)


def default_slash(parent: etree._Element, a: Point, b: Point, colour: str) -> None:
    """The default-flow mark: a short slash across the flow near its source."""
    length = math.hypot(b[0] - a[0], b[1] - a[1]) or 1.0
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    cx, cy = a[0] + ux * min(10, length / 2), a[1] + uy * min(10, length / 2)
    sx, sy = (ux - uy) * 5, (uy + ux) * 5  # the flow's direction turned by 45°
    path(parent, f"M{pt(cx - sx, cy - sy)} L{pt(cx + sx, cy + sy)}", stroke=colour, stroke_width=1.5)


def cross(parent: etree._Element, cx: float, cy: float, half: float, angle: float, width: float = 3) -> None:
    """A ``+`` (angle 0) or an ``X`` (angle 45) of arm length ``half``."""
    dx, dy = half * math.cos(math.radians(angle)), half * math.sin(math.radians(angle))
    d = f"M{pt(cx - dx, cy - dy)} L{pt(cx + dx, cy + dy)} M{pt(cx + dy, cy - dx)} L{pt(cx - dy, cy + dx)}"
    path(parent, d, stroke_width=width, stroke_linecap="round")


def gateway_marker(parent: etree._Element, kind: str, cx: float, cy: float, size: float, show_x: bool) -> None:
    q = size / 4
    if kind == "exclusiveGateway" and show_x:
        cross(parent, cx, cy, q * 0.95, 45)
    elif kind == "parallelGateway":
        cross(parent, cx, cy, q * 1.1, 0)
    elif kind == "inclusiveGateway":
        el(parent, "circle", cx=cx, cy=cy, r=q * 0.95, **{**THIN, "stroke_width": 2.5})
    elif kind == "complexGateway":
        cross(parent, cx, cy, q * 1.05, 0)
        cross(parent, cx, cy, q * 0.95, 45)
    elif kind == "eventBasedGateway":
        for r in (q * 1.15, q * 0.95):
            el(parent, "circle", cx=cx, cy=cy, r=r, **THIN)
        event_marker(parent, "multiple", cx, cy, q * 1.15, filled=False)


def data_object(parent: etree._Element, x: float, y: float, w: float, h: float, style: dict[str, Attr]) -> None:
    c = min(w, h) * 0.3
    path(parent, f"M{pt(x, y)} h{num(w - c)} l{pt(c, c)} v{num(h - c)} h{num(-w)} Z", stroke_linejoin="round", **style)
    path(parent, f"M{pt(x + w - c, y)} v{num(c)} h{num(c)}", stroke=style.get("stroke"))


def data_store(parent: etree._Element, x: float, y: float, w: float, h: float, style: dict[str, Attr]) -> None:
    ry, arc = min(h * 0.14, w * 0.2), f"a{pt(w / 2, min(h * 0.14, w * 0.2))} 0 0"
    path(parent, f"M{pt(x, y + ry)} {arc} 1 {num(w)},0 v{num(h - 2 * ry)} {arc} 1 {num(-w)},0 Z", **style)
    path(
        parent,
        "".join(f"M{pt(x, y + ry * k)} {arc} 0 {num(w)},0 " for k in (1.0, 1.9, 2.8)),
        stroke=style.get("stroke"),
    )


def data_io(parent: etree._Element, x: float, y: float, output: bool) -> None:
    """The arrow of a data input (hollow) or data output (filled)."""
    _polygon(parent, x + 4, y + 4, 1, [(0, 3), (6, 3), (6, 0), (11, 5), (6, 10), (6, 7), (0, 7)], output)


def swimlane_band(
    g: etree._Element, name: str, box: tuple[float, float, float, float], pool: bool, horizontal: bool
) -> None:
    """The name band of a pool or lane: on the left with the name turned -90°, or on top when vertical."""
    x, y, w, h = box
    size, band = (13.0 if pool else 12.0), 30.0
    weight = "bold" if pool else None
    rect(g, (x, y, band, h) if horizontal else (x, y, w, band), **{**THIN, "fill": BAND})
    if horizontal:
        cx, cy = x + band / 2, y + h / 2
        turned = el(g, "g", transform=f"rotate(-90 {num(cx)} {num(cy)})")
        text_block(turned, fit_lines(name, h - 12, band - 2, size), cx, size=size, center_y=cy, font_weight=weight)
    else:
        text_block(
            g, fit_lines(name, w - 12, band - 2, size), x + w / 2, size=size, center_y=y + band / 2, font_weight=weight
        )


def tick(parent: etree._Element, cx: float, cy: float) -> None:
    """The 'done' badge: a green disc with a white tick."""
    g = el(parent, "g", class_="bpmn-tick")
    el(g, "circle", cx=cx, cy=cy, r=7.5, fill=DONE_STROKE, stroke=WHITE, stroke_width=1.5)
    path(g, f"M{pt(cx - 3.6, cy + 0.2)} l2.6,2.7 l4.8,-5.4", stroke=WHITE, stroke_width=2, stroke_linecap="round")


_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|rgba?\([0-9.,%\s]{5,40}\))$")


def safe_colour(value: str | None) -> str | None:
    """A DI colour if it is a plain colour (never ``url(…)``: the SVG must not load anything)."""
    value = (value or "").strip()
    return value if _COLOUR.match(value) else None
