"""常用意见: a clerk's own phrases and his sections' (kept by their chiefs), offered on every task page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from onewindow.engine import MAX_PHRASE, ValidationError

from .. import get_engine
from ..errors import Refusal
from ..i18n import gettext as _
from ..security import current_user, safe_next

bp = Blueprint("phrases", __name__, url_prefix="/phrases")
OWN = "__own__"  # the scope select's choice for the user's own list


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("phrases.index"))


@bp.get("/")
def index() -> str:
    user = current_user()
    return render_template(
        "phrases/index.html",
        phrases=get_engine().phrases.for_user(user),
        chief_sections=[s for s in user.sections if user.chief_of(s)],
        OWN=OWN,
        MAX_PHRASE=MAX_PHRASE,
    )


@bp.post("/")
def add() -> Response:
    user = current_user()
    scope = request.form.get("scope", OWN)
    section = None if scope == OWN else scope
    if section is not None and not user.chief_of(section):
        raise Refusal(_("只有本科室的科长可以维护科室常用意见。"), user=user.username)
    text = request.form.get("text", "")
    try:
        get_engine().phrases.add(user, text, section=section)
    except ValidationError as err:
        problem = err.errors[0].message if err.errors else ""
        if not text.strip():
            flash(_("请填写常用意见的内容。"), "error")
        elif "already" in problem:
            flash(_("这条常用意见已经有了。"), "error")
        elif "phrases" in problem:
            flash(_("常用意见已满(最多 100 条),请先删除不用的。"), "error")
        else:
            flash(_("常用意见不能超过 {n} 字。", n=MAX_PHRASE), "error")
        return redirect(_back())
    flash(_("已保存常用意见。"), "ok")
    return redirect(_back())


@bp.post("/<int:phrase_id>/delete")
def remove(phrase_id: int) -> Response:
    user = current_user()
    get_engine().phrases.remove(user, phrase_id)  # another user's: 404; a section's by a clerk: 403
    flash(_("已删除常用意见。"), "ok")
    return redirect(_back())
