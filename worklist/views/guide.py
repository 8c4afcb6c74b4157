"""办事指南: a public service guide per matter, generated from its catalogue, and the index of matters."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from onewindow.engine import NotFoundError

from .. import get_engine
from ..diagrams import matter_svg, svg_response
from ..i18n import N_
from ..templating import matters

bp = Blueprint("guide", __name__, url_prefix="/guide")

# Shown through _(): the catalogue holds the codes (GB/T 39046 appendix A).
MATTER_TYPES = {
    "01": N_("行政许可"),
    "02": N_("行政处罚"),
    "03": N_("行政强制"),
    "04": N_("行政征收"),
    "05": N_("行政给付"),
    "06": N_("行政检查"),
    "07": N_("行政确认"),
    "08": N_("行政奖励"),
    "09": N_("行政裁决"),
    "10": N_("其他行政权力"),
    "20": N_("公共服务"),
}
HANDLING_FORMS = {"1": N_("窗口办理"), "2": N_("网上办理(PC端)"), "3": N_("移动端办理"), "4": N_("快递送达")}


@bp.get("/")
def index() -> str:
    public = [m for m in matters().values() if not m.internal]  # follow-up work is no matter applied for
    return render_template("guide/index.html", matters=public, matter_types=MATTER_TYPES)


@bp.get("/<matter_key>")
def matter(matter_key: str) -> str:
    # this matter's latest catalogue only, not every deployed matter's: a bureau's guide has hundreds of pages
    try:
        found, _ = get_engine().repository.matter(matter_key)
    except NotFoundError:
        raise NotFoundError.unknown("matter", matter_key) from None
    bureau = get_engine().bureau
    department = bureau.department(found.supervising_department)
    sections = [bureau.section(code) for code in (found.lead_section, *found.co_sections)]
    source = get_engine().repository.diagram(matter_key)  # the drawing and the list of steps beside it
    return render_template(
        "guide/matter.html",
        matter=found,
        extra=found.extra,
        matter_types=MATTER_TYPES,
        handling_forms=HANDLING_FORMS,
        department=department,
        sections=[s for s in sections if s is not None],
        diagram=matter_svg(matter_key, source),
        steps=source.steps,
    )


@bp.get("/<matter_key>/diagram.svg")
def diagram(matter_key: str) -> Response:
    if matter_key not in matters():
        raise NotFoundError.unknown("matter", matter_key)
    return svg_response(matter_svg(matter_key))


@bp.get("/<matter_key>/modeler")
def modeler(matter_key: str) -> str:
    """流程图预览: the deployed BPMN drawn in the browser by bpmn-js, as Camunda Modeler shows it (staff only)."""
    found = matters().get(matter_key)
    if found is None:
        raise NotFoundError.unknown("matter", matter_key)
    return render_template("guide/modeler.html", matter=found)


@bp.get("/<matter_key>/diagram.bpmn")
def bpmn(matter_key: str) -> Response:
    """The deployed BPMN XML of the matter's latest version (staff only: it holds the scripts)."""
    if matter_key not in matters():
        raise NotFoundError.unknown("matter", matter_key)
    source = get_engine().repository.diagram(matter_key)
    response = Response(source.bpmn_xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'inline; filename="{matter_key}.bpmn"'
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
