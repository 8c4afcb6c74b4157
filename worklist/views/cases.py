"""Cases: the list of cases touching my sections, and one case with its tasks, history and diagram."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from onewindow.engine import PAUSE_KINDS, CaseStatus, TaskView, ValidationError

from .. import get_engine
from ..diagrams import case_svg, render_diagram, svg_response
from ..i18n import gettext as _
from ..security import current_user, safe_next
from ..templating import remember_names
from .case_actions import lead_member, window_member
from .files import files_context
from .worklist import page_number

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/")
def index() -> str:
    q = request.args.get("q", "")[:100]
    page = get_engine().cases.page_for(
        current_user(), search=q, page=page_number(), per_page=current_app.config["PER_PAGE"]
    )
    return render_template("cases/index.html", page=page, q=q, args={"q": q} if q else {})


@bp.get("/<case_no>")
def show(case_no: str) -> str:
    user = current_user()
    page = get_engine().cases.page(user, case_no)  # one read: case, tasks, history, clock, diagram, names
    lanes: dict[str, list[TaskView]] = {}
    for t in page.open_tasks:
        lanes.setdefault(t.section or t.lane or "", []).append(t)
    remember_names(page.user_names, page.matter)
    return render_template(
        "cases/case.html",
        case=page.summary,
        lanes=lanes,
        timeline=page.timeline,
        applicant=page.applicant,
        materials=page.materials,
        diagram=render_diagram(page.diagram),
        steps=page.diagram.steps,
        clock=page.clock,
        patterns=page.patterns,  # 多评合一, 网上中介, 会审: None unless the case went through one
        my_sections=set(user.sections),
        incidents=page.incidents,
        query_code=page.query_code,
        followups=page.followups,
        chain_break=page.chain_break,  # the history's hash chain, walked from the rows the page read
        **files_context(case_no, url_for("cases.show", case_no=case_no), page.files, page.matter),
        documents=page.documents,
        delivery=page.delivery,
        can_confirm_delivery=any(
            s.kind.value == "issuing_window" and s.code in user.sections for s in get_engine().bureau.sections
        ),
        shared=page.shared,  # 审管信息共享: what the departments were sent
        exposure=page.exposure,  # personal data: full, masked, or masked with 显示完整
        # what this user may do to the case besides its steps (views/case_actions.py checks again)
        actions={
            "open": not page.summary.finished_at and not user.is_inspector,
            "clock": lead_member(user, page.matter) and page.summary.accepted_at is not None,
            "extend": user.chief_of(page.matter.lead_section) and page.summary.accepted_at is not None,
            "end": window_member(user) or lead_member(user, page.matter),
            "terminate": page.summary.status == CaseStatus.SUPPLEMENT,
            "urge": {
                t.id for t in page.open_tasks if user.chief_of(t.section) or user.chief_of(page.matter.lead_section)
            },
        },
        pause_kinds=PAUSE_KINDS,
        # 内部意见: the sections working the case (those with a step in it)
        can_comment=bool(
            set(user.sections) & ({e.section for e in page.timeline} | {t.section for t in page.open_tasks})
        ),
    )


@bp.post("/<case_no>/comments")
def comment(case_no: str) -> BaseResponse:
    """内部意见: a note for the sections working the case (never shown to the applicant)."""
    user = current_user()
    back = safe_next(request.form.get("next"), url_for("cases.show", case_no=case_no))
    try:
        get_engine().comments.add(user, case_no, request.form.get("text", "")[:4000])
    except ValidationError:
        flash(_("内部意见不能为空,且不超过 2000 字。"), "error")
    else:
        flash(_("已记录内部意见。"), "ok")
    return redirect(back)


@bp.post("/<case_no>/reveal")
def reveal(case_no: str) -> str:
    """显示完整: one personal field in full, for 纪检 and auditors (and the sections that see it anyway); the
    viewing is recorded in the administrative record. Other sections get 403."""
    user = current_user()
    engine = get_engine()
    field = request.form.get("field", "")[:200]
    page = engine.cases.page(user, case_no)  # 404 outside the user's cases, as everywhere
    title = next((d.title for d in page.applicant if d.name == field), field)
    value = engine.privacy.reveal(user, case_no, field)
    return render_template("cases/reveal.html", case=page.summary, title=title, value=value)


@bp.get("/<case_no>/diagram.svg")
def diagram(case_no: str) -> Response:
    """The case's diagram alone, at full size (the browser zooms it)."""
    get_engine().cases.check_access(current_user(), case_no)
    return svg_response(case_svg(case_no))
