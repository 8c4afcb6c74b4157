"""BPMN diagrams as inline SVG, drawn on the server by ``onewindow.engine.render_svg``.

A matter's diagram depends only on its deployed version, so it is cached per definition; a case's
highlights change with every step, so it is drawn per request. If the renderer fails the
page still shows, without the picture.
"""

from __future__ import annotations

import logging

from flask import Response, current_app
from markupsafe import Markup

from onewindow.engine import DiagramSource, NotFoundError, render_svg

from . import get_engine

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
        )
    except Exception:  # a drawing problem must not take the case page down with it
        log.exception("cannot draw %s", source.filename)
        return None
    # The renderer escapes every text it takes from the BPMN; the SVG is markup we trust.
    return Markup(svg)


def matter_svg(matter_key: str, source: DiagramSource | None = None) -> Markup | None:
    """The drawing of the matter's latest version (``source``, when the page read it already)."""
    source = source or get_engine().repository.diagram(matter_key)
    cache: dict[int, Markup | None] = current_app.extensions.setdefault("onewindow.diagrams", {})
    if source.definition_id not in cache:
        cache[source.definition_id] = render_diagram(source)
    return cache[source.definition_id]


def case_svg(case_no: str) -> Markup | None:
    return render_diagram(get_engine().cases.diagram(case_no))


def svg_response(svg: Markup | None) -> Response:
    if svg is None:
        raise NotFoundError("the diagram is not available")
    response = Response(str(svg), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
