"""网上办事大厅: the public hall under /hall/ — the matters that can be applied for online with their
guide, and 办件查询 by case number and query code (查询码).

The lookup answers a wrong code and an unknown case number with the same page and status, so nobody can
learn which case numbers exist; failed lookups are throttled per client address and per case number
(``throttle_lookups``). Only the status, the current step in plain words and the committed due date are
shown: nothing about the applicant.
"""

from __future__ import annotations

import os
from typing import Any, cast

from flask import Blueprint, Flask, render_template, request
from flask_limiter import Limiter
from werkzeug.wrappers import Response

from onewindow.engine import CaseView, Matter, NotFoundError

from .. import get_engine
from ..i18n import N_
from ..i18n import gettext as _
from ..templating import matter_name, matters, section_name, task_name

bp = Blueprint("hall", __name__, url_prefix="/hall")

# 办理形式 codes of the catalogue (``handling_forms``) that mean the matter is applied for online.
ONLINE_FORMS = {"2", "3"}
MAX_CASE_NO = 32
MAX_CODE = 16

# What each status means to an applicant (no BPMN, no internal names).
STATUS_WORDS = {
    "received": N_("已收到申请,等待窗口核验材料。"),
    "supplement": N_("需要补正材料:请按一次性告知书补齐后提交。"),
    "accepted": N_("已受理,正在审查。"),
    "approved": N_("已办结:准予许可。"),
    "rejected": N_("已办结:不予许可。"),
    "not_accepted": N_("不予受理:请查看不予受理通知书。"),
    "withdrawn": N_("已撤回:申请已撤回,办件终止办理。"),
    "terminated": N_("已终止:未在期限内补正,办件终止办理;请查看终止办理通知书。"),
}


def online_matters() -> list[Matter]:
    return [m for m in matters().values() if ONLINE_FORMS & {str(f) for f in m.extra.get("handling_forms") or []}]


@bp.get("/")
def index() -> str:
    return render_template("hall/index.html", matters=online_matters(), others=len(matters()) - len(online_matters()))


@bp.get("/matters/<matter_key>")
def matter(matter_key: str) -> str:
    found = next((m for m in online_matters() if m.key == matter_key), None)
    if found is None:
        raise NotFoundError.unknown("matter", matter_key)
    return render_template("hall/matter.html", matter=found, extra=found.extra)


def _progress(case: CaseView) -> dict[str, Any]:
    """What the applicant may read: status in words, the sections handling it now, the due date."""
    s = case.summary
    sections = get_engine().bureau
    steps = []
    for t in case.open_tasks:
        section = sections.section(t.section or "")
        steps.append({"section": section_name(section.code) if section else "", "name": task_name(t)})
    return {
        "case_no": s.case_no,
        "matter_name": matter_name(s.matter),
        "status": s.status,
        "status_words": STATUS_WORDS.get(s.status, s.status_label),
        "steps": steps,
        "created_at": s.created_at,
        "accepted_at": s.accepted_at,
        "committed_due_at": s.committed_due_at,
        "finished_at": s.finished_at,
        "paused": s.paused_at is not None,
    }


@bp.route("/track", methods=["GET", "POST"])
def track() -> tuple[str, int]:
    """办件查询: GET shows the form (or looks up ``?case=…&code=…``, the QR code's link); POST looks up."""
    values = request.form if request.method == "POST" else request.args
    case_no = values.get("case", "").strip().upper()[:MAX_CASE_NO]
    code = values.get("code", "").strip().upper().replace(" ", "").replace("-", "")[:MAX_CODE]
    if not case_no and not code:
        return render_template("hall/track.html", case_no="", progress=None, error=""), 200
    found = get_engine().cases.by_query_code(case_no, code) if case_no and code else None
    if found is None:
        error = _("办件编号或查询码不正确,请核对受理通知书上的编号和查询码。")
        return render_template("hall/track.html", case_no=case_no, progress=None, error=error), 404
    return render_template("hall/track.html", case_no=case_no, progress=_progress(found), error=""), 200


def _lookup_key() -> str:
    values = request.form if request.method == "POST" else request.args
    return "track-case:" + values.get("case", "").strip().upper()[:MAX_CASE_NO]


def _failed(response: Response) -> bool:
    return response.status_code == 404


def throttle_lookups(app: Flask, limiter: Limiter) -> None:
    """Failed lookups per client address and per case number (``ONEWINDOW_TRACK_LIMIT_ADDRESS`` /
    ``…_CASE``): guessing a code is cut off with a 429 and a message in Chinese."""
    by_address = str(
        app.config.get("TRACK_LIMIT_ADDRESS") or os.environ.get("ONEWINDOW_TRACK_LIMIT_ADDRESS") or "20 per 10 minutes"
    )
    by_case = str(app.config.get("TRACK_LIMIT_CASE") or os.environ.get("ONEWINDOW_TRACK_LIMIT_CASE") or "10 per hour")
    view = app.view_functions["hall.track"]
    per_case = limiter.limit(by_case, key_func=_lookup_key, deduct_when=_failed)
    per_address = limiter.limit(by_address, deduct_when=_failed)
    app.view_functions["hall.track"] = cast(Any, per_address(per_case(view)))


def too_many_lookups() -> tuple[str, int]:
    error = _("查询失败次数过多,请稍后再试。")
    return render_template("hall/track.html", case_no="", progress=None, error=error), 429
