"""What a clerk does to a case besides completing its steps: start and end a special procedure (特别程序),
record an extension (延期) with its approver, withdraw an application on the applicant's written request (撤回),
end one whose 补正 deadline passed (终止), and urge a step (催办). Each is a CSRF-protected form on the case
page, checked against the user's sections, and each leaves its history entry and, where the applicant must
be told, its notice.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from onewindow.engine import PAUSE_KINDS, ConflictError, Matter, PermissionDeniedError, UserAccount, ValidationError

from .. import get_engine
from ..errors import Refusal
from ..i18n import gettext as _
from ..security import current_user
from ..templating import task_name

bp = Blueprint("case_actions", __name__, url_prefix="/cases")

MAX_TEXT = 500


def _matter(case_no: str) -> Matter:
    """The case's matter, once the user may see the case (404 in the same words otherwise)."""
    engine = get_engine()
    engine.cases.check_access(current_user(), case_no)
    key = engine.cases.show(case_no).summary.matter
    found, _problems = engine.repository.matter(key)
    return found


def lead_member(user: UserAccount, matter: Matter) -> bool:
    return matter.lead_section in user.sections


def window_member(user: UserAccount) -> bool:
    intake = {s.code for s in get_engine().bureau.sections if s.kind.value == "intake_window"}
    return bool(intake & set(user.sections))


def _text(name: str) -> str:
    return request.form.get(name, "").strip()[:MAX_TEXT]


def _back(case_no: str) -> Response:
    return redirect(url_for("cases.show", case_no=case_no) + "#case-actions")


def _conflict(err: ConflictError) -> str:
    state = str(getattr(err, "state", "") or "")
    if "finished" in str(err) or "办结" in state:
        return _("办件已办结或已终止,不能再操作。")
    if "not accepted" in str(err):
        return _("尚未受理:法定时限尚未起算。")
    if state == "paused":
        return _("计时已暂停:请先结束当前特别程序。")
    if state == "running":
        return _("计时未暂停,没有进行中的特别程序。")
    if "legal cap" in str(err):
        return _("延期超过法定上限。")
    if "补正" in str(err):
        return _("补正期限尚未届满,不能终止办理。")
    return _("操作与办件当前状态冲突,请刷新后重试。")


@bp.post("/<case_no>/pause")
def pause(case_no: str) -> Response:
    user, matter = current_user(), _matter(case_no)
    if not lead_member(user, matter):
        raise Refusal(_("只有主办科室可以启动特别程序。"))
    kind, reason = request.form.get("kind", ""), _text("reason")
    if kind not in PAUSE_KINDS or not reason:
        flash(_("请选择特别程序并填写理由。"), "error")
        return _back(case_no)
    try:
        get_engine().case_clock.pause(case_no, kind=kind, reason=reason, actor=user.username)
    except ValidationError:
        flash(_("该程序不属于行政许可法第四十五条规定的特别程序,其时间计入办理时限;本事项的法律未另作规定。"), "error")
    except ConflictError as err:
        flash(_conflict(err), "error")
    else:
        flash(_("特别程序已开始,暂停计时;已出具特别程序告知书。"), "ok")
    return _back(case_no)


@bp.post("/<case_no>/resume")
def resume(case_no: str) -> Response:
    user, matter = current_user(), _matter(case_no)
    if not lead_member(user, matter):
        raise Refusal(_("只有主办科室可以结束特别程序。"))
    try:
        get_engine().case_clock.resume(case_no, actor=user.username, result=_text("result"))
    except ConflictError as err:
        flash(_conflict(err), "error")
    else:
        flash(_("特别程序已结束,恢复计时;办结期限已顺延。"), "ok")
    return _back(case_no)


@bp.post("/<case_no>/extend")
def extend(case_no: str) -> Response:
    user, matter = current_user(), _matter(case_no)
    if not user.chief_of(matter.lead_section):
        raise Refusal(_("只有主办科室科长可以办理延期。"))
    days, approver, reason = request.form.get("days", ""), _text("approver"), _text("reason")
    if not days.isdigit() or int(days) <= 0 or not approver or not reason:
        flash(_("请填写延长的工作日数(正整数)、批准人和理由。"), "error")
        return _back(case_no)
    try:
        get_engine().case_clock.extend(
            case_no, working_days=int(days), approver=approver, reason=reason, actor=user.username
        )
    except ConflictError as err:
        flash(_conflict(err), "error")
    else:
        flash(_("已延期 {n} 个工作日(批准人:{who});已出具延期通知书。", n=int(days), who=approver), "ok")
    return _back(case_no)


@bp.post("/<case_no>/withdraw")
def withdraw(case_no: str) -> Response:
    user, matter = current_user(), _matter(case_no)
    if not (window_member(user) or lead_member(user, matter)):
        raise Refusal(_("只有受理窗口或主办科室可以办理撤回。"))
    reason = _text("reason")
    if not reason:
        flash(_("请填写申请人书面撤回申请的内容。"), "error")
        return _back(case_no)
    try:
        get_engine().case_ends.withdraw(case_no, actor=user.username, reason=reason, way="window")
    except ConflictError as err:
        flash(_conflict(err), "error")
    else:
        flash(_("申请已撤回,办件终止;已出具撤回申请确认书。"), "ok")
    return _back(case_no)


@bp.post("/<case_no>/terminate")
def terminate(case_no: str) -> Response:
    user, matter = current_user(), _matter(case_no)
    if not (window_member(user) or lead_member(user, matter)):
        raise Refusal(_("只有受理窗口或主办科室可以终止办理。"))
    try:
        get_engine().case_ends.terminate(case_no, actor=user.username)
    except ConflictError as err:
        flash(_conflict(err), "error")
    else:
        flash(_("补正期限已过,办件已终止;已出具终止办理通知书。"), "ok")
    return _back(case_no)


@bp.post("/<case_no>/tasks/<task_id>/urge")
def urge(case_no: str, task_id: str) -> Response:
    user = current_user()
    get_engine().cases.check_access(user, case_no)
    task = get_engine().tasks.get(task_id)
    if task.case_no != case_no:
        abort(404)
    try:
        get_engine().tasks.urge(task_id, by=user, note=_text("note"))
    except PermissionDeniedError:
        raise Refusal(_("只有该环节所在科室或主办科室的科长可以催办。")) from None
    except ConflictError:
        flash(_("该环节已办理,无需催办。"), "error")
    else:
        flash(_("已催办:{task}。", task=task_name(task)), "ok")
    return _back(case_no)
