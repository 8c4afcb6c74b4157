"""Cases: the list of cases touching my sections, and one case with its tasks, history and diagram."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request

from onewindow.engine import TaskView

from .. import get_engine
from ..diagrams import case_svg, svg_response
from ..security import current_user
from ..templating import remember_user_names
from .worklist import page_number

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/")
def index() -> str:
    q = request.args.get("q", "")[:100]
    page = get_engine().worklist.cases_for(
        current_user(), search=q, page=page_number(), per_page=current_app.config["PER_PAGE"]
    )
    return render_template("cases/index.html", page=page, q=q, args={"q": q} if q else {})


@bp.get("/<case_no>")
def show(case_no: str) -> str:
    engine = get_engine()
    user = current_user()
    engine.worklist.check_case(user, case_no)
    case = engine.cases.show(case_no)
    timeline = engine.worklist.timeline(case_no)
    lanes: dict[str, list[TaskView]] = {}
    for t in case.open_tasks:
        lanes.setdefault(t.section or t.lane or "", []).append(t)
    remember_user_names({e.actor for e in timeline} | {t.claimed_by or "" for t in case.open_tasks})
    return render_template(
        "cases/case.html",
        case=case.summary,
        lanes=lanes,
        timeline=timeline,
        applicant=engine.worklist.applicant(case_no),
        materials=engine.worklist.materials(case_no),
        diagram=case_svg(case_no),
        clock=engine.case_clock.explain(case_no),
        my_sections=set(user.sections),
    )


@bp.get("/<case_no>/diagram.svg")
def diagram(case_no: str) -> Response:
    """The case's diagram alone, at full size (the browser zooms it)."""
    get_engine().worklist.check_case(current_user(), case_no)
    return svg_response(case_svg(case_no))
