"""A task: the case it belongs to, the earlier opinions, its form; claim, unclaim, reassign, complete."""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from onewindow.engine import (
    KIND_TITLES,
    CaseStatus,
    ConflictError,
    DocumentKind,
    EventKind,
    FourEyesError,
    TaskPage,
    ValidationError,
    WorkflowError,
)

from .. import get_engine
from ..errors import Refusal
from ..forms import build_fields, errors_by_field, field_paths, parse_form, with_schema_errors
from ..i18n import current_lang, status_title
from ..i18n import gettext as _
from ..security import current_user, safe_next
from ..templating import material_name, remember_names, remember_user_names, task_name, user_name
from .files import files_context

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
TO_SECTION = "__section__"  # the reassign control's explicit choice: back to the section, claimed by nobody
MAX_BULK = 200  # rows ticked at once: more than a page holds
NO_FORM: dict[str, Any] = {"type": "object", "properties": {}}  # a step without a form (copied before use)


def _offers_materials(form: dict[str, Any] | None) -> dict[str, Any] | None:
    """The 补正 list of material codes of a form, where the page offers the case's materials as its choices."""
    prop = ((form or {}).get("properties") or {}).get("supplemented_materials")
    if isinstance(prop, dict) and isinstance(prop.get("items"), dict) and "oneOf" not in prop["items"]:
        return prop
    return None


def _schema_for(page: TaskPage) -> dict[str, Any]:
    """The task's form; a 补正 list of material codes becomes checkboxes of the case's materials."""
    schema = copy.deepcopy(page.form_schema or NO_FORM)
    prop = _offers_materials(schema)
    if prop is not None:
        status = page.materials
        offered = status.missing or [m for m in status.matter.materials if m.code not in status.received]
        prop["items"]["oneOf"] = [{"const": m.code, "title": f"{material_name(m)} ({m.code})"} for m in offered]
    return schema


def _kept(schema: dict[str, Any], shown: dict[str, Any]) -> list[tuple[str, str]]:
    """What the clerk typed into a form that was not saved (title, text), for copying after a 409."""
    out: list[tuple[str, str]] = []
    for f in build_fields(schema, shown, lang=current_lang()):
        if f.widget in ("text", "textarea", "lines", "number", "integer", "date") and f.value:
            out.append((f.title, str(f.value)))
    return out


def _render(
    page: TaskPage,
    schema: dict[str, Any],
    shown: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    kept: list[tuple[str, str]] | None = None,
) -> tuple[str, int]:
    user = current_user()
    task = page.task
    remember_names(page.user_names, page.matter)
    fields = build_fields(schema, shown, errors, lang=current_lang())
    phrase_target = next((f.dom_id for f in fields if f.widget == "textarea"), None)
    html = render_template(
        "tasks/task.html",
        task=task,
        case=page.case,
        applicant=page.applicant,
        materials=page.materials,
        opinions=[
            e
            for e in page.timeline
            if (e.kind == "task_completed" and e.task_id != task.id)
            or e.kind in (EventKind.CASE_COMMENT, EventKind.TASK_SENT_BACK)  # a send-back's reason is an opinion too
        ],
        fields=fields,
        # 常用意见: inserted into the form's first text area (the opinion) with a click
        phrases=page.phrases if phrase_target else [],
        phrase_target=phrase_target,
        form_error=errors.get(""),
        form_title=schema.get("title", ""),
        form_description=schema.get("description", ""),
        can_complete=task.state == "ready" and task.claimed_by in (None, user.username) and not page.four_eyes,
        members=page.members,
        urged=[e for e in page.timeline if e.kind == "task_urged" and e.task_id == task.id],
        # 退回上一环节: why this step is open again (the latest send-back to it), shown to whoever works it
        returned=[
            e for e in page.timeline if e.kind == EventKind.TASK_SENT_BACK and (e.data or {}).get("to_task") == task.id
        ][-1:],
        TO_SECTION=TO_SECTION,
        **files_context(task.case_no, url_for("tasks.show", task_id=task.id), page.files, page.matter),
        previews=[(k, KIND_TITLES[DocumentKind(k)]) for k in page.issues],
        # 用印审批 on the step that seals a result: who approved, or the chief's button
        seal_approval=get_engine().documents.seal_approval(task.case_no) if "result" in page.issues else None,
        documents=page.documents,
        delivery=None,
        exposure=page.exposure,
        four_eyes=page.four_eyes,
        dissent=page.dissent,
        kept=kept or [],
    )
    return html, status


@bp.get("/<task_id>")
def show(task_id: str) -> tuple[str, int]:
    page = get_engine().tasks.page(current_user(), task_id)  # one read: task, case, history, form, members
    return _render(page, _schema_for(page), {}, {})


@bp.post("/<task_id>")
def complete(task_id: str) -> Response | tuple[str, int]:
    engine = get_engine()
    user = current_user()
    # The task and its form in one statement; the page's full read only where the form offers the case's
    # materials, or to show the form again (below).
    task, form = engine.tasks.for_completion(user, task_id)
    shown_page = engine.tasks.page(user, task_id) if _offers_materials(form) else None
    schema = _schema_for(shown_page) if shown_page is not None else copy.deepcopy(form or NO_FORM)

    def page() -> TaskPage:
        return shown_page if shown_page is not None else engine.tasks.page(user, task_id)

    if task.state == "ready" and task.claimed_by and task.claimed_by != user.username:
        remember_user_names({task.claimed_by})
        raise Refusal(_("该任务已由{who}认领,只有认领人可以办理。", who=user_name(task.claimed_by)), user=user.username)
    data, shown, problems = parse_form(schema, request.form)
    paths = field_paths(schema)
    try:
        if problems:  # text that is not even a number: report it with every other problem, change nothing
            raise ValidationError(task.name, with_schema_errors(form or {}, data, problems))
        done = engine.tasks.complete(task_id, user=user.username, data=data)
    except ValidationError as err:
        flash(_("请更正标出的内容。"), "error")
        return _render(page(), schema, shown, errors_by_field(err.errors, paths, lang=current_lang()), status=400)
    except FourEyesError as err:
        flash(four_eyes_message(err), "error")
        return _render(page(), schema, shown, {}, status=403)
    except ConflictError:
        # Someone was faster (completed, claimed or cancelled it meanwhile): nothing was saved. The page shows
        # the task as it is now and keeps what this clerk typed, so an opinion is not lost with the 409.
        fresh = engine.tasks.page(user, task_id)
        now = fresh.task
        if now.state == "completed" and now.completed_by:
            remember_user_names({now.completed_by})
            who = user_name(now.completed_by)
            said = _("该任务已由{who}办理,你的提交未保存。你填写的内容保留在下方,可复制备用。", who=who)
        else:
            said = _("该任务在此期间已被他人处理(已办结、已认领或已取消),你的提交未保存。你填写的内容保留在下方。")
        flash(f"{status_title(409)}:{said}", "error")
        return _render(fresh, _schema_for(fresh), shown, {}, status=409, kept=_kept(schema, shown))
    except WorkflowError as err:
        if err.incident is None:
            raise
        # The process failed on this step (a script or condition): nothing was saved and an incident was
        # recorded. The clerk keeps what was typed and can submit again once an administrator has fixed it.
        failed = _(
            "流程执行出错,本次提交未保存:已登记为流程异常 #{incident},请联系管理员修正后再提交。", incident=err.incident
        )
        flash(failed, "error")
        return _render(page(), schema, shown, {}, status=422)
    flash(_("已办理:{task}({case})。", task=task_name(done), case=done.case_no), "ok")
    if "supplemented_materials" in (schema.get("properties") or {}):
        # After a 补正 the window hands over either a new notice or the acceptance receipt.
        status = engine.cases.show(done.case_no).summary.status
        if status == CaseStatus.ACCEPTED:
            return redirect(url_for("intake.receipt", case_no=done.case_no))
        if status == CaseStatus.SUPPLEMENT:
            return redirect(url_for("intake.notice", case_no=done.case_no))
    return redirect(url_for("worklist.index"))


def four_eyes_message(err: FourEyesError) -> str:
    """The rule named, in the reader's language: which step he did and which he may therefore not take."""
    return _(
        "四眼原则:同一办件的审核与审批不得由同一人办理。你已办理“{done}”,不能再办理“{task}”({case})。",
        done=err.done,
        task=err.step,
        case=err.case_no,
    )


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("worklist.index"))


@bp.post("/claim")
def claim_many() -> Response:
    """认领所选: every ticked row claimed on its own; what failed is reported per task."""
    user = current_user()
    ids = [i for i in request.form.getlist("task_id") if i][:MAX_BULK]
    if not ids:
        flash(_("请先勾选要认领的任务。"), "error")
        return redirect(_back())
    for outcome in get_engine().tasks.claim_many(user, ids):
        t = outcome.task
        if outcome.ok and t is not None:
            flash(_("已认领:{task}({case})。", task=task_name(t), case=t.case_no), "ok")
        elif t is None:
            flash(_("任务 {id} 不存在或不属于你的科室。", id=outcome.task_id[:40]), "error")
        elif isinstance(outcome.error, FourEyesError):
            flash(four_eyes_message(outcome.error), "error")
        else:
            flash(_("{task}({case})已被他人认领或办理。", task=task_name(t), case=t.case_no), "error")
    return redirect(_back())


@bp.post("/<task_id>/claim")
def claim(task_id: str) -> Response:
    user = current_user()
    task = get_engine().tasks.get_for(user, task_id)
    try:
        get_engine().tasks.claim(task_id, user=user.username)
        flash(_("已认领:{task}({case})。", task=task_name(task), case=task.case_no), "ok")
    except FourEyesError as err:
        flash(four_eyes_message(err), "error")
    except ConflictError:
        flash(
            _("{task}({case})已被他人认领或办理。", task=task_name(task), case=task.case_no),
            "error",
        )
    return redirect(_back())


@bp.post("/<task_id>/unclaim")
def unclaim(task_id: str) -> Response:
    user = current_user()
    task = get_engine().tasks.get_for(user, task_id)
    try:
        get_engine().tasks.unclaim(task_id, user=user.username)
        flash(_("已退回科室待认领:{task}({case})。", task=task_name(task), case=task.case_no), "ok")
    except ConflictError:
        flash(_("{task}({case})不是你认领的任务。", task=task_name(task), case=task.case_no), "error")
    return redirect(_back())


@bp.post("/<task_id>/reassign")
def reassign(task_id: str) -> Response:
    user = current_user()
    task = get_engine().tasks.get_for(user, task_id)  # 404 outside his sections, 403 for a non-chief
    if not user.chief_of(task.section):
        raise Refusal(_("只有本科室的科长可以改派任务。"), user=user.username)
    choice, reason = request.form.get("assignee", "").strip(), request.form.get("reason", "").strip()[:500]
    if not choice or not reason:
        flash(_("请选择改派对象并填写改派理由。"), "error")
        return redirect(_back())
    to = None if choice == TO_SECTION else choice
    try:
        get_engine().tasks.set_assignee(task_id, by=user, to=to, reason=reason)
    except ValidationError:
        flash(_("{who} 不是本科室成员,不能改派给他。", who=to or ""), "error")
        return redirect(_back())
    except ConflictError:
        flash(_("{task}({case})已办理,不能改派。", task=task_name(task), case=task.case_no), "error")
        return redirect(_back())
    remember_user_names({to or ""})
    flash(
        _("已将{task}({case})改派给{who}。", task=task_name(task), case=task.case_no, who=user_name(to))
        if to
        else _("已退回科室待认领:{task}({case})。", task=task_name(task), case=task.case_no),
        "ok",
    )
    return redirect(_back())


@bp.post("/<task_id>/send-back")
def send_back(task_id: str) -> Response:
    """退回上一环节, with the reason the form requires."""
    engine = get_engine()
    user = current_user()
    task = engine.tasks.get_for(user, task_id)  # 404 outside his sections
    here = url_for("tasks.show", task_id=task_id)
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(_("请填写退回理由。"), "error")
        return redirect(here)
    if len(reason) > 500:
        flash(_("退回理由不能超过 500 字(现为 {n} 字)。", n=len(reason)), "error")
        return redirect(here)
    try:
        back = engine.tasks.send_back(task_id, user=user.username, reason=reason)
    except ConflictError as err:
        if err.state == "no previous step":
            flash(
                _(
                    "{task}({case})没有可以退回的上一环节,或其后已作出决定(已作出的决定应撤销,不能退回)。",
                    task=task_name(task),
                    case=task.case_no,
                ),
                "error",
            )
        else:
            flash(_("{task}({case})已被他人处理,未退回。", task=task_name(task), case=task.case_no), "error")
        return redirect(here)
    remember_user_names({back.claimed_by or ""})
    flash(
        _(
            "已将{case}退回上一环节:{step}({who})。",
            case=back.case_no,
            step=task_name(back),
            who=user_name(back.claimed_by),
        )
        if back.claimed_by
        else _("已将{case}退回上一环节:{step}。", case=back.case_no, step=task_name(back)),
        "ok",
    )
    return redirect(url_for("worklist.index"))


@bp.post("/<task_id>/approve-seal")
def approve_seal(task_id: str) -> Response:
    """批准用印: a chief of the seal's section approves the seal the task will apply."""
    engine = get_engine()
    user = current_user()
    task = engine.tasks.get_for(user, task_id)
    try:
        engine.documents.approve_seal(user, task.case_no)
    except ConflictError as err:
        flash(str(err), "error")
    else:
        flash(_("已批准用印。"), "ok")
    return redirect(url_for("tasks.show", task_id=task_id))
