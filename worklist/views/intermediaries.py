"""网上中介 in the worklist: the register of intermediaries (qualifications with their expiry, services,
suspension, how often they delivered late, their ratings) and their services on cases, each against its own
limit. Chiefs and administrators suspend an intermediary here, or reinstate it, with a reason (an
administrative change, as ``onewindow intermediaries suspend|reinstate``); registering stays a command."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from onewindow.engine import EVALUATION_SERVICES, EXPIRING_DAYS, ConflictError, NotFoundError, ValidationError

from .. import get_engine
from ..errors import Refusal
from ..i18n import gettext as _
from ..security import current_user

bp = Blueprint("intermediaries", __name__, url_prefix="/intermediaries")

# The bureau's staff read it (the evaluation centre chooses from it); a supervising department's liaison does not.
READERS = ("clerk", "chief", "admin", "auditor", "inspector")
# Who takes an intermediary off the draw and puts it back: the section chiefs, whose cases it serves, and the
# administrators, who keep the register (the CLI's ``--user`` is an operator, an administrator by definition).
KEEPERS = ("chief", "admin")


def _reader() -> None:
    if current_user().role not in READERS:
        raise NotFoundError.unknown("page", "intermediaries")


def _keeper() -> str:
    user = current_user()
    if user.role not in KEEPERS:
        raise Refusal(_("只有科长和系统管理员可以暂停或恢复中介机构。"), user=user.username)
    return user.username


@bp.get("/")
def index() -> str:
    _reader()
    register = get_engine().intermediaries.register()
    return render_template(
        "intermediaries/index.html",
        register=register,
        services=EVALUATION_SERVICES,
        expiring_days=EXPIRING_DAYS,
        can_keep=current_user().role in KEEPERS,
    )


def _change(uscc: str, *, suspend: bool) -> Response:
    _reader()
    actor = _keeper()
    back = redirect(url_for("intermediaries.index") + f"#intermediary-{uscc}")
    reason = request.form.get("reason", "")
    if not reason.strip():
        flash(_("请填写暂停原因。") if suspend else _("请填写恢复原因。"), "error")
        return back
    if request.form.get("confirm") != "yes":
        flash(_("请勾选确认后再提交。"), "error")
        return back
    service = get_engine().intermediaries
    try:
        if suspend:
            done = service.suspend(uscc, reason=reason, actor=actor)
        else:
            done = service.reinstate(uscc, reason=reason, actor=actor)
    except ConflictError:
        flash(_("该中介机构的状态在此期间已有变化,你的操作未保存。"), "error")
        return back
    except ValidationError as err:
        if not any(e.field == "reason" for e in err.errors):
            raise  # a code in the address that is no 统一社会信用代码: the error page says so
        flash(_("原因过长,请简要填写。"), "error")  # past the form's maxlength: only a hand-made request
        return back
    if suspend:
        flash(_("已暂停中介机构 {name}:{reason}", name=done.name, reason=done.suspended_reason), "ok")
    else:
        flash(_("已恢复中介机构 {name},可再被抽取和选择。", name=done.name), "ok")
    return back


@bp.post("/<uscc>/suspend")
def suspend(uscc: str) -> Response:
    return _change(uscc, suspend=True)


@bp.post("/<uscc>/reinstate")
def reinstate(uscc: str) -> Response:
    return _change(uscc, suspend=False)
