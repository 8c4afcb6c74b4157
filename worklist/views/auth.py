"""Sign in, sign out, and the language switch."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from .. import get_engine
from ..i18n import LANGUAGES
from ..i18n import gettext as _
from ..security import safe_next, sign_in, sign_out

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    target = safe_next(request.values.get("next"), url_for("worklist.index"))
    if request.method == "GET" and g.user is not None:
        return redirect(target)
    error = None
    username = request.form.get("username", "").strip()
    if request.method == "POST":
        user = get_engine().users.authenticate(username, request.form.get("password", ""))
        if user is not None:
            sign_in(user)
            flash(_("已登录:{name}。", name=user.display_name), "ok")
            return redirect(target)
        error = _("用户名或密码错误。")
    page = render_template("auth/login.html", error=error, username=username, next=request.values.get("next", ""))
    return (page, 401) if error else page


@bp.post("/logout")
def logout() -> Response:
    sign_out()
    flash(_("已退出。"), "ok")
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def set_language() -> Response:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("worklist.index")))
