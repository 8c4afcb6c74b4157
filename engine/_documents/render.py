"""Jinja2 → HTML → PDF (WeasyPrint), with the seal and the verification QR drawn by the system.

``TEMPLATE_VERSION`` is stored with every document: a template change bumps it, and a stored document keeps
saying which layout it was printed with (its bytes never change).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .kinds import KINDS, DocumentKind
from .seal import SealFace, seal_svg

__all__ = ["TEMPLATE_VERSION", "RenderedSeal", "qr_image", "render_html", "render_pdf", "seal_image"]

TEMPLATE_VERSION = "2026.1"
_TEMPLATES = Path(__file__).with_name("templates")
_env = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class RenderedSeal:
    label: str
    image: str  # data: URI of the SVG


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def seal_image(face: SealFace) -> RenderedSeal:
    return RenderedSeal(f"{face.body}{face.purpose}({face.number})", _data_uri(seal_svg(face)))


def qr_image(url: str) -> str:
    import segno

    return _data_uri(segno.make(url, error="m").svg_inline(scale=4, border=0))


def render_html(kind: DocumentKind, context: dict[str, Any]) -> str:
    return _env.get_template(KINDS[kind].template).render(kind=kind.value, template_version=TEMPLATE_VERSION, **context)


def render_pdf(kind: DocumentKind, context: dict[str, Any]) -> bytes:
    """The document as PDF bytes (A4, fonts embedded as subsets)."""
    from weasyprint import HTML  # imported on first use: loading Pango takes a moment

    pdf = HTML(string=render_html(kind, context), base_url=str(_TEMPLATES)).write_pdf()
    assert pdf is not None
    return bytes(pdf)
