"""The seal image: drawn by the system from the bureau's name and the seal's number, never an uploaded picture.

Vector SVG in the form official round seals take (GA 241 style): a red ring, a five-pointed star in the middle,
the body's name along the upper arc, the seal's purpose (行政审批专用章) below the star and its number along the
bottom. Each character is placed and turned on its own (no ``textPath``), so every SVG renderer draws it the same.
A demo seal carries 样章 (specimen) across it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

__all__ = ["SealFace", "seal_svg"]

RED = "#d7000f"


@dataclass(frozen=True)
class SealFace:
    body: str  # the bureau's name, along the upper arc
    purpose: str  # below the star: 行政审批专用章
    number: str  # along the bottom: 510107-01
    specimen: bool = False


def _star(cx: float, cy: float, outer: float) -> str:
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        a = math.radians(-90 + i * 36)
        points.append(f"{cx + r * math.cos(a):.2f},{cy + r * math.sin(a):.2f}")
    return " ".join(points)


def _arc_text(text: str, cx: float, cy: float, radius: float, span: float, size: float, *, top: bool) -> list[str]:
    """Characters spread over ``span`` degrees of a circle, upright towards the centre (top) or away (bottom)."""
    n = len(text)
    if n == 0:
        return []
    step = span / max(n - 1, 1)
    out = []
    for i, ch in enumerate(text):
        if top:
            deg = -90 - span / 2 + i * step if n > 1 else -90.0
            rot = deg + 90
        else:
            deg = 90 + span / 2 - i * step if n > 1 else 90.0
            rot = deg - 90
        a = math.radians(deg)
        x, y = cx + radius * math.cos(a), cy + radius * math.sin(a)
        out.append(
            f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size:.1f}" text-anchor="middle" dominant-baseline="central" '
            f'transform="rotate({rot:.2f} {x:.2f} {y:.2f})">{escape(ch)}</text>'
        )
    return out


def seal_svg(face: SealFace, *, size_mm: float = 42.0) -> str:
    """The seal as a standalone SVG document, ``size_mm`` across (a 行政审批专用章 is 42 mm)."""
    c, r = 50.0, 48.0
    name_size = 10.5 if len(face.body) <= 12 else 126 / len(face.body)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="{size_mm}mm" height="{size_mm}mm">',
        f'<g fill="{RED}" stroke="none" font-family="Noto Serif CJK SC, serif" font-weight="bold">',
        f'<circle cx="{c}" cy="{c}" r="{r - 1.5}" fill="none" stroke="{RED}" stroke-width="3"/>',
        f'<polygon points="{_star(c, c - 2, 13)}"/>',
        *_arc_text(face.body, c, c, 36, 200 if len(face.body) > 8 else 160, name_size, top=True),
        f'<text x="{c}" y="{c + 22}" font-size="7" text-anchor="middle">{escape(face.purpose)}</text>',
        *_arc_text(face.number, c, c, 39, 56, 5.2, top=False),
    ]
    if face.specimen:
        parts.append(
            f'<text x="{c}" y="{c + 6}" font-size="22" text-anchor="middle" fill="{RED}" fill-opacity="0.55" '
            f'transform="rotate(-25 {c} {c})" font-family="Noto Serif CJK SC, serif">样章</text>'
        )
    parts.append("</g></svg>")
    return "".join(parts)
