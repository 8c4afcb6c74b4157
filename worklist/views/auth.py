"""Sign in, sign out, and the language switch."""

from __future__ import annotations

import math

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from .. import get_engine, sessions
from ..i18n import LANGUAGES
from ..i18n import gettext as _
from ..security import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    target = safe_next(request.values.get("next"), url_for("worklist.index"))
    if request.method == "GET" and g.user is not None:
        return redirect(target)
    error = None
    username = request.form.get("username", "").strip()
    if request.method == "POST":
        result = sessions.sign_in(username, request.form.get("password", ""))
        if result.account is not None:
            sessions.start(result)
            flash(_("已登录:{name}。", name=result.account.display_name), "ok")
            return redirect(target)
        if result.locked_until is not None:
            wait = max(1, math.ceil((result.locked_until - get_engine().clock.now()).total_seconds() / 60))
            error = _("登录失败次数过多,账户已临时锁定,请 {minutes} 分钟后再试。", minutes=wait)
        else:
            error = _("用户名或密码错误。")
    page = render_template("auth/login.html", error=error, username=username, next=request.values.get("next", ""))
    return (page, 401) if error else page


@bp.post("/logout")
def logout() -> Response:
    sessions.end()
    flash(_("已退出。"), "ok")
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def set_language() -> Response:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("worklist.index")))
