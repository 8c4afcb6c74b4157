"""The applicant's side of the hall (网上办事大厅), under /hall/: register (as an applicant, or as an agent who
applies for others, 帮办代办), sign in and out, my drafts and cases, apply online from the matter's JSON Schema
with material uploads (saved as a draft to finish later, then submitted once), and the case page of one's own
case: the status in plain words, the committed due date, the 一次性告知 with a supplement upload per material,
the documents issued, the rating (好差评) once the case ended, and the chief's reply to a bad one.

Another account's case or draft answers 404 like one that does not exist: nothing about it is shown.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from onewindow.engine import (
    APPLICANT_KINDS,
    ENTRUSTMENT,
    FINISHED_STATUSES,
    RATING_LEVELS,
    ApplicantView,
    ApplicationView,
    AuthenticationError,
    CaseStatus,
    ConflictError,
    EventKind,
    FileRejectedError,
    NotFoundError,
    ValidationError,
)

from .. import get_engine, hall_sessions
from ..forms import build_fields, errors_by_field, field_paths, localized, parse_form, with_schema_errors
from ..i18n import current_lang
from ..i18n import gettext as _
from ..security import safe_next
from ..sessions import lockout_policy
from ..uploads import refusal, uploads_from
from .documents import _pdf as pdf_response
from .hall import ONLINE_FORMS, STATUS_WORDS, _progress, online_matters

bp = Blueprint("applicant", __name__, url_prefix="/hall")

P = ParamSpec("P")
R = TypeVar("R")

# Documents addressed to the applicant are always theirs to download; the result itself (licence, certificate)
# only where the matter is handled online (its catalogue's handling_forms include 2 or 3).
RESULT_KIND = "result"


def signed_in(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
    """The hall's sign-in check (the staff's ``before_request`` leaves the hall's pages alone)."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | BaseResponse:
        if hall_sessions.current_applicant() is None:
            nxt = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("applicant.login", next=nxt))
        return view(*args, **kwargs)

    return wrapper


def me() -> ApplicantView:
    account = hall_sessions.current_applicant()
    assert account is not None  # behind @signed_in
    return account


@bp.after_request
def _personal(response: Response) -> Response:
    if g.get("hall_account") is not None:
        response.headers.setdefault("Cache-Control", "no-store")  # an applicant's pages are personal
    return response


@bp.app_context_processor
def _hall_account() -> dict[str, Any]:
    return {"hall_account": hall_sessions.current_applicant}


# -- register, sign in, sign out ---------------------------------------------------------------------------
@bp.route("/register", methods=["GET", "POST"])
def register() -> str | BaseResponse | tuple[str, int]:
    values = {k: request.form.get(k, "").strip() for k in ("kind", "name", "id_number", "mobile")}
    values["kind"] = values["kind"] if values["kind"] in APPLICANT_KINDS else "applicant"
    if request.method == "GET":
        return render_template("hall/register.html", values=values, errors={})
    password = request.form.get("password", "")
    if password != request.form.get("password2", ""):
        errors = {"password2": _("两次输入的密码不一致。")}
        return render_template("hall/register.html", values=values, errors=errors), 400
    try:
        account = get_engine().applicants.register(
            values["kind"], values["name"], values["id_number"], values["mobile"], password
        )
    except ValidationError as err:
        errors = {e.field: localized(e.message, current_lang()) for e in err.errors}
        return render_template("hall/register.html", values=values, errors=errors), 400
    hall_sessions.start(account)
    flash(_("注册成功,已登录:{name}。", name=account.name), "ok")
    return redirect(url_for("applicant.home"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse | tuple[str, int]:
    target = safe_next(request.values.get("next"), url_for("applicant.home"))
    login_name = request.form.get("login", "").strip()[:32]
    if request.method == "GET":
        if hall_sessions.current_applicant() is not None:
            return redirect(target)
        return render_template("hall/login.html", error="", login=login_name, next=request.values.get("next", ""))
    engine = get_engine()
    try:
        account = engine.applicants.authenticate(
            login_name, request.form.get("password", ""), client=request.remote_addr or "", lockout=lockout_policy()
        )
    except AuthenticationError as err:
        if err.locked_until is not None:
            wait = max(1, math.ceil((err.locked_until - engine.clock.now()).total_seconds() / 60))
            error = _("登录失败次数过多,请 {minutes} 分钟后再试。", minutes=wait)
        else:
            error = _("手机号/身份证号或密码不正确。")
        page = render_template("hall/login.html", error=error, login=login_name, next=request.values.get("next", ""))
        return page, 401
    hall_sessions.start(account)
    flash(_("已登录:{name}。", name=account.name), "ok")
    return redirect(target)


def too_many_sign_ins(wait_minutes: int) -> tuple[str, int]:
    error = _("登录失败次数过多,请 {minutes} 分钟后再试。", minutes=wait_minutes)
    login_name = request.form.get("login", "").strip()[:32]
    return render_template("hall/login.html", error=error, login=login_name, next=request.values.get("next", "")), 429


def login_key() -> str:
    return "hall-login:" + request.form.get("login", "").strip().upper()[:32]


@bp.post("/logout")
def logout() -> BaseResponse:
    hall_sessions.end()
    flash(_("已退出。"), "ok")
    return redirect(url_for("hall.index"))


# -- my drafts and cases -----------------------------------------------------------------------------------
@bp.get("/me")
@signed_in
def home() -> str:
    engine = get_engine()
    account = me()
    drafts = [a for a in engine.applications.of(account.id) if a.status == "draft"]
    names = {m.key: m.name for m in online_matters()}
    return render_template(
        "hall/me.html",
        account=account,
        drafts=drafts,
        names=names,
        cases=engine.applicants.cases_of(account.id),
        matters=online_matters(),
        status_words=STATUS_WORDS,
        sms_enabled=engine.notifications.sms_enabled(account.id),
    )


# -- applying online ---------------------------------------------------------------------------------------
def _online_matter(matter_key: str) -> Any:
    found = next((m for m in online_matters() if m.key == matter_key), None)
    if found is None:
        raise NotFoundError.unknown("matter", matter_key)
    return found


def _draft_of(account: ApplicantView, matter_key: str, draft_id: str | None) -> ApplicationView | None:
    """The draft named in the form or the URL, else the account's latest draft of the matter (come back
    later and carry on), else None (a new draft is made on the first save)."""
    engine = get_engine()
    if draft_id:
        if not draft_id.isdigit() or len(draft_id) > 12:
            raise NotFoundError.unknown("application", draft_id[:20])
        found = engine.applications.get(account.id, int(draft_id))  # another account's draft: 404
        if found.matter != matter_key:
            raise NotFoundError.unknown("application", draft_id)
        return found
    return next((a for a in engine.applications.of(account.id) if a.matter == matter_key and a.status == "draft"), None)


def _apply_page(
    matter: Any,
    draft: ApplicationView | None,
    shown: dict[str, Any],
    errors: dict[str, str],
    *,
    files_error: str = "",
    status: int = 200,
) -> tuple[str, int]:
    engine = get_engine()
    _m, forms = engine.repository.matter(matter.key)
    schema = forms.get(matter.application_form or "", {"type": "object", "properties": {}})
    account = me()
    materials = list(matter.materials) + ([ENTRUSTMENT] if account.is_agent else [])
    uploaded: dict[str, list[Any]] = {}
    for f in draft.files if draft else []:
        uploaded.setdefault(f.material, []).append(f)
    page = render_template(
        "hall/apply.html",
        matter=matter,
        draft=draft,
        fields=build_fields(schema, shown, errors, prefix="applicant.", lang=current_lang()),
        materials=materials,
        uploaded=uploaded,
        files_error=files_error,
        form_errors=[e for k, e in errors.items() if k == ""],
    )
    return page, status


@bp.get("/apply/<matter_key>")
@signed_in
def apply(matter_key: str) -> tuple[str, int]:
    matter = _online_matter(matter_key)
    draft = _draft_of(me(), matter_key, request.args.get("draft"))
    shown = _flatten(draft.data) if draft else {}
    return _apply_page(matter, draft, shown, {})


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A saved draft's values keyed as ``build_fields`` shows them (``group.field``)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@bp.post("/apply/<matter_key>")
@signed_in
def save(matter_key: str) -> BaseResponse | tuple[str, int]:
    """Save the draft (what was typed and the files chosen); ``action=submit`` then submits it once."""
    matter = _online_matter(matter_key)
    account = me()
    engine = get_engine()
    _m, forms = engine.repository.matter(matter_key)
    schema = forms.get(matter.application_form or "", {"type": "object", "properties": {}})
    data, shown, problems = parse_form(schema, request.form, prefix="applicant.")
    draft = _draft_of(account, matter_key, request.form.get("draft"))
    if draft is not None and draft.status != "draft":  # submitted already (a second tab, a double click)
        return (
            redirect(url_for("applicant.case", case_no=draft.case_no))
            if draft.case_no
            else redirect(url_for("applicant.home"))
        )
    if draft is None:
        draft = engine.applications.create(account.id, matter_key, by_agent=account.is_agent)
    try:
        draft = engine.applications.save(account.id, draft.id, data)
        uploads = uploads_from(request.files)
        if uploads:
            draft = engine.applications.add_files(account.id, draft.id, uploads)
    except FileRejectedError as err:
        message = refusal(err) + " " + _("请重新选择文件。")
        flash(_("已填写的内容已保存;文件未保存。"), "error")
        return _apply_page(matter, draft, shown, {}, files_error=message, status=400)
    except ValidationError as err:
        errors = errors_by_field(err.errors, field_paths(schema), lang=current_lang())
        return _apply_page(matter, draft, shown, errors, status=400)
    if request.form.get("action") != "submit":
        flash(_("草稿已保存,可随时回来继续填写。"), "ok")
        return redirect(url_for("applicant.apply", matter_key=matter_key, draft=draft.id))
    schema_errors = with_schema_errors(schema, data, problems)
    if schema_errors:
        errors = errors_by_field(schema_errors, field_paths(schema), lang=current_lang())
        flash(_("草稿已保存;请更正标出的内容后再提交。"), "error")
        return _apply_page(matter, draft, shown, errors, status=400)
    try:
        case = engine.applications.submit(account.id, draft.id, actor=f"hall:{account.id}")
    except ValidationError as err:
        if any(e.field == f"files.{ENTRUSTMENT.code}" for e in err.errors):
            message = _("代办申请须上传申请人签署的授权委托书。")
        else:
            message = "; ".join(localized(e.message, current_lang()) for e in err.errors)
        flash(_("草稿已保存;尚未提交。"), "error")
        return _apply_page(matter, draft, shown, {}, files_error=message, status=400)
    flash(_("已提交,办件编号 {case}。窗口预审后会在此告知结果。", case=case.case_no), "ok")
    return redirect(url_for("applicant.case", case_no=case.case_no))


# -- my case -----------------------------------------------------------------------------------------------
def _own_case(case_no: str) -> str:
    """``case_no`` if the signed-in account applied for it; 404 otherwise (as if it did not exist)."""
    case_no = case_no.strip().upper()[:32]
    if not get_engine().applications.owns_case(me().id, case_no):
        raise NotFoundError.unknown("case", case_no)
    return case_no


def _documents(case_no: str, matter: Any) -> list[Any]:
    online = bool(ONLINE_FORMS & {str(f) for f in (matter.extra.get("handling_forms") or [])})
    return [
        d
        for d in get_engine().documents.list(case_no=case_no)
        if d.status == "valid" and (d.kind != RESULT_KIND or online)
    ]


def _notice(case_no: str, found: Any) -> list[tuple[Any, Any]]:
    """The 一次性告知's items, each with the file handed in since the 补正 was asked for (None: still to do)."""
    engine = get_engine()
    asked = min((t.created_at for t in found.open_tasks), default=None)
    files = engine.files.material_set(case_no)
    out = []
    for item in engine.files.notice_items(case_no):
        latest = m.latest if (m := files.of(item.material.code)) is not None else None
        answered = latest if latest is not None and asked is not None and latest.uploaded_at > asked else None
        out.append((item, answered))
    return out


@bp.get("/cases/<case_no>")
@signed_in
def case(case_no: str) -> str:
    case_no = _own_case(case_no)
    engine = get_engine()
    found = engine.cases.show(case_no)
    matter, _forms = engine.repository.matter(found.summary.matter)
    return render_template(
        "hall/case.html",
        progress=_progress(found),
        query_code=found.query_code,
        channel=found.summary.channel_label,
        notice=_notice(case_no, found) if found.summary.status == CaseStatus.SUPPLEMENT else [],
        documents=_documents(case_no, matter),
        ended=found.summary.status in FINISHED_STATUSES,
        rating=engine.ratings.of_case(case_no),
        levels=RATING_LEVELS,
        complaints=engine.hotline.list(case_no=case_no, applicant_id=me().id),
        # 现场踏勘 appointments, 整改, 容缺 due dates: what the bureau told the applicant (also in /hall/messages)
        notices=[e for e in found.history if e.kind == EventKind.APPLICANT_NOTICE],
    )


@bp.post("/cases/<case_no>/supplement")
@signed_in
def supplement(case_no: str) -> BaseResponse:
    """补正 online: each file a new version of its material, answering the 一次性告知."""
    case_no = _own_case(case_no)
    account = me()
    uploads = uploads_from(request.files)
    if not uploads:
        flash(_("请选择要上传的补正材料。"), "error")
        return redirect(url_for("applicant.case", case_no=case_no))
    try:
        source = "agent" if account.is_agent else "online"
        get_engine().files.add(case_no, uploads, actor=f"hall:{account.id}", source=source)
    except FileRejectedError as err:
        flash(refusal(err) + " " + _("请重新选择文件。"), "error")
        return redirect(url_for("applicant.case", case_no=case_no))
    flash(_("已上传 {count} 个补正文件,窗口核验后继续办理。", count=len(uploads)), "ok")
    return redirect(url_for("applicant.case", case_no=case_no))


@bp.post("/cases/<case_no>/rate")
@signed_in
def rate(case_no: str) -> BaseResponse:
    case_no = _own_case(case_no)
    level_text = request.form.get("level", "")
    level = int(level_text) if level_text.isdigit() and len(level_text) == 1 else 0
    try:
        get_engine().ratings.rate(
            case_no, level=level, comment=request.form.get("comment", ""), channel="online", applicant_id=me().id
        )
    except ConflictError as err:
        flash(_("本办件已评价。") if err.state == "rated" else _("办结后才能评价。"), "error")
        return redirect(url_for("applicant.case", case_no=case_no))
    except ValidationError:
        flash(_("请选择评价等级;意见最多 500 字。"), "error")
        return redirect(url_for("applicant.case", case_no=case_no))
    flash(_("感谢您的评价。"), "ok")
    return redirect(url_for("applicant.case", case_no=case_no) + "#rating")


@bp.post("/cases/<case_no>/withdraw")
@signed_in
def withdraw(case_no: str) -> BaseResponse:
    """撤回: the applicant withdraws his own application before its decision; the case ends with a notice."""
    case_no = _own_case(case_no)
    if request.form.get("confirm") != "yes":
        flash(_("请勾选确认后再撤回申请。"), "error")
        return redirect(url_for("applicant.case", case_no=case_no) + "#withdraw")
    try:
        get_engine().case_ends.withdraw(
            case_no, actor=f"hall:{me().id}", reason=request.form.get("reason", "")[:500], way="hall"
        )
    except ConflictError:
        flash(_("本办件已办结或已终止,不能撤回。"), "error")
        return redirect(url_for("applicant.case", case_no=case_no))
    flash(_("申请已撤回,办件终止办理;撤回申请确认书可在下方查看。"), "ok")
    return redirect(url_for("applicant.case", case_no=case_no))


@bp.post("/cases/<case_no>/complain")
@signed_in
def complain(case_no: str) -> BaseResponse:
    """96166 online: a complaint about one's own case, answered by the bureau within its reply limit."""
    case_no = _own_case(case_no)
    try:
        get_engine().hotline.complain_online(case_no, applicant_id=me().id, text=request.form.get("text", ""))
    except ValidationError:
        flash(_("请填写投诉内容(最多 2000 字)。"), "error")
        return redirect(url_for("applicant.case", case_no=case_no) + "#complaint")
    flash(_("投诉已受理,我们将在规定时限内答复。"), "ok")
    return redirect(url_for("applicant.case", case_no=case_no) + "#complaint")


@bp.get("/cases/<case_no>/documents/<code>.pdf")
@signed_in
def document(case_no: str, code: str) -> Response:
    """An issued document of one's own case, as stored (signed PDF), to keep or print."""
    case_no = _own_case(case_no)
    engine = get_engine()
    matter, _forms = engine.repository.matter(engine.cases.show(case_no).summary.matter)
    found = next((d for d in _documents(case_no, matter) if d.code == code), None)
    if found is None:
        raise NotFoundError.unknown("document", code[:40])
    return pdf_response(engine.documents.pdf(found.number), f"{found.title}-{found.number}.pdf", inline=False)
