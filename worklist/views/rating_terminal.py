"""The window's rating terminal (好差评 评价器): from the case page of an ended case, a clerk opens a full-screen
page turned towards the applicant, who rates the service there (channel ``window``). The page shows only the
case number, the matter and the five levels: nothing else of the case or of the clerk's worklist."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from onewindow.engine import FINISHED_STATUSES, RATING_LEVELS, ConflictError, ValidationError

from .. import get_engine
from ..i18n import N_
from ..i18n import gettext as _
from ..security import current_user

bp = Blueprint("terminal", __name__)

# The levels' words as the applicant reads them (RATING_LEVELS holds the same Chinese).
LEVEL_WORDS = (N_("非常满意"), N_("满意"), N_("基本满意"), N_("不满意"), N_("非常不满意"))


def _ended_case(case_no: str) -> tuple[str, str]:
    engine = get_engine()
    engine.cases.check_access(current_user(), case_no)  # 404 for a case the clerk may not open
    summary = engine.cases.show(case_no).summary
    if summary.status not in FINISHED_STATUSES:
        raise ConflictError(f"case {case_no} has not ended yet; it can be rated once it has", case_no=case_no)
    return summary.case_no, summary.matter_name


@bp.get("/cases/<case_no>/rating-terminal")
def show(case_no: str) -> str:
    case_no, matter_name = _ended_case(case_no)
    rating = get_engine().ratings.of_case(case_no)
    return render_template(
        "cases/rating_terminal.html", case_no=case_no, matter_name=matter_name, rating=rating, levels=RATING_LEVELS
    )


@bp.post("/cases/<case_no>/rating-terminal")
def rate(case_no: str) -> BaseResponse | tuple[str, int]:
    case_no, _matter_name = _ended_case(case_no)
    level_text = request.form.get("level", "")
    level = int(level_text) if level_text.isdigit() and len(level_text) == 1 else 0
    try:
        comment = request.form.get("comment", "")
        actor = current_user().username
        get_engine().ratings.rate(case_no, level=level, comment=comment, channel="window", actor=actor)
    except ValidationError:
        flash(_("请选择评价等级;意见最多 500 字。"), "error")
        return redirect(url_for("terminal.show", case_no=case_no))
    except ConflictError:
        flash(_("本办件已评价。"), "error")
        return redirect(url_for("terminal.show", case_no=case_no))
    return redirect(url_for("terminal.show", case_no=case_no, done=1))
