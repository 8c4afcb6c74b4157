"""BPMN diagrams as inline SVG, drawn on the server by ``onewindow.engine.render_svg``.

A matter's diagram depends only on its deployed version and the reader's language (an English page labels each
element with its ``name_en``), so it is cached per definition and language; a case's highlights change with
every step, so it is drawn per request. If the renderer fails the
page still shows, without the picture.
"""

from __future__ import annotations

import logging

from flask import Response, current_app
from markupsafe import Markup

from onewindow.engine import DiagramSource, NotFoundError, render_svg

from . import get_engine
from .i18n import current_lang

log = logging.getLogger(__name__)


def render_diagram(source: DiagramSource) -> Markup | None:
    try:
        svg = render_svg(
            source.bpmn_xml,
            filename=source.filename,
            done=set(source.done),
            current=set(source.current),
            process_id=source.process_id,
            title=source.title,
            english=current_lang() == "en",
        )
    except Exception:  # a drawing problem must not take the case page down with it
        log.exception("cannot draw %s", source.filename)
        return None
    # The renderer escapes every text it takes from the BPMN; the SVG is markup we trust.
    return Markup(svg)


def matter_svg(matter_key: str, source: DiagramSource | None = None) -> Markup | None:
    """The drawing of the matter's latest version (``source``, when the page read it already)."""
    source = source or get_engine().repository.diagram(matter_key)
    cache: dict[tuple[int, str], Markup | None] = current_app.extensions.setdefault("onewindow.diagrams", {})
    key = (source.definition_id, current_lang())
    if key not in cache:
        cache[key] = render_diagram(source)
    return cache[key]


def case_svg(case_no: str) -> Markup | None:
    return render_diagram(get_engine().cases.diagram(case_no))


def svg_response(svg: Markup | None) -> Response:
    if svg is None:
        raise NotFoundError("the diagram is not available")
    response = Response(str(svg), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
