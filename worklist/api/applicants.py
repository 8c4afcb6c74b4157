"""Applicants' endpoints for the apps (两微一端): sign in for a token, apply online (draft, data, files,
submit), follow one's cases, rate an ended case, and track any case by its query code without a token.

The engine's hall services do the work, with the hall's rules: an account sees only its own drafts (another's
is as unknown as a missing one), an agent submits only with the letter of entrustment, a draft submitted
twice gives one case, a case is rated once and only after it ended. A case created here records the
channel ``api``. Sign-in and failed lookups are throttled like the hall's (``throttle``).
"""

from __future__ import annotations

import os
from typing import Any, cast

from flask import Flask, jsonify, request
from flask_limiter import Limiter
from werkzeug.wrappers import Response

from onewindow.engine import (
    ApplicantView,
    AuthenticationError,
    CaseView,
    Channel,
    ConflictError,
    NotFoundError,
)

from .. import get_engine
from ..uploads import UPLOAD_ENDPOINTS, uploads_from
from ..views.hall import STATUS_WORDS
from . import bp
from .auth import applicant, bearer_token, json_body
from .problems import ApiProblem, problem
from .systems import is_online

__all__ = ["throttle"]

UPLOAD_ENDPOINTS.add("api.application_files")  # the upload limits, not the 1 MB of a form, apply to it
MAX_LOGIN = 32
MAX_CASE_NO = 32
MAX_CODE = 16


def _actor(account: ApplicantView) -> str:
    return f"hall:{account.id}"  # as the hall's pages record an account's actions


def _field_problem(field: str, message: str) -> ApiProblem:
    return ApiProblem("validation_failed", f"{field} {message}。", errors=[{"field": field, "message": message}])


# -- signing in --------------------------------------------------------------------------------------------
@bp.post("/auth/token")
def sign_in() -> tuple[Response, int]:
    """An applicant's or agent's token for the mobile number or ID number and the password."""
    body = json_body()
    login, password = body.get("login"), body.get("password")
    if not isinstance(login, str) or not isinstance(password, str):
        raise ApiProblem(
            "validation_failed",
            "请提供 login(手机号或身份证号)和 password。",
            errors=[{"field": f, "message": "必填"} for f in ("login", "password") if not isinstance(body.get(f), str)],
        )
    engine = get_engine()
    try:
        account = engine.applicants.authenticate(login[:MAX_LOGIN], password[:200], client=request.remote_addr or "")
    except AuthenticationError as err:  # answered, not raised: the throttle counts the 401s it sees
        if err.locked_until is not None:
            wait = max(60, int((err.locked_until - engine.clock.now()).total_seconds()))
            detail = "登录失败次数过多,该账号暂时锁定,请稍后再试。"
            return problem("rate_limited", detail, headers={"Retry-After": str(wait)}), 429
        return problem("sign_in_failed", "手机号/身份证号或密码不正确。"), 401
    issued = engine.api_tokens.issue(account)
    out = {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_at": issued.expires_at.isoformat(),
        "applicant": account.to_dict(),
    }
    return jsonify(out), 201


@bp.delete("/auth/token")
def sign_out() -> tuple[str, int]:
    """End the token sent (the app signs out)."""
    applicant()
    get_engine().api_tokens.revoke(bearer_token())
    return "", 204


# -- applying ----------------------------------------------------------------------------------------------
@bp.get("/applications")
def applications() -> Response:
    account = applicant()
    return jsonify({"items": [a.to_dict() for a in get_engine().applications.of(account.id)]})


@bp.post("/applications")
def new_application() -> tuple[Response, int]:
    """A new draft of a matter applied for online; an agent's draft is the agent's (帮办代办)."""
    account = applicant()
    matter_key = json_body().get("matter")
    if not isinstance(matter_key, str) or not matter_key:
        raise _field_problem("matter", "应为事项编码(GET /matters 的 key)")
    engine = get_engine()
    try:
        found, _forms = engine.repository.matter(matter_key)
    except NotFoundError:
        found = None
    if found is None or not is_online(found):
        raise _field_problem("matter", "不是可网上申报的事项")
    draft = engine.applications.create(account.id, matter_key, by_agent=account.is_agent)
    return jsonify(draft.to_dict()), 201


@bp.get("/applications/<int:application_id>")
def application(application_id: int) -> Response:
    account = applicant()
    return jsonify(get_engine().applications.get(account.id, application_id).to_dict())


@bp.put("/applications/<int:application_id>")
def save_application(application_id: int) -> Response:
    """Keep the application's data so far (``{"data": {…}}``); it is checked in full at submission."""
    account = applicant()
    data = json_body().get("data")
    if not isinstance(data, dict):
        raise _field_problem("data", "应为 JSON 对象")
    return jsonify(get_engine().applications.save(account.id, application_id, data).to_dict())


@bp.post("/applications/<int:application_id>/files")
def application_files(application_id: int) -> tuple[Response, int]:
    """Files of the draft's materials: multipart ``material`` (its code) and one or more ``file``, or fields
    named ``file.<material code>``. PDF, JPEG or PNG, checked by their bytes."""
    account = applicant()
    uploads = uploads_from(request.files, material=request.form.get("material", "").strip())
    if not uploads:
        raise _field_problem("file", "请以 multipart/form-data 上传文件,并用 material 指明材料编码")
    draft = get_engine().applications.add_files(account.id, application_id, uploads)
    return jsonify(draft.to_dict()), 201


@bp.post("/applications/<int:application_id>/submit")
def submit_application(application_id: int) -> tuple[Response, int]:
    """Register the case once: 201 with the new case, 200 with the same case when sent again."""
    account = applicant()
    engine = get_engine()
    before = engine.applications.get(account.id, application_id)
    case = engine.applications.submit(account.id, application_id, actor=_actor(account), channel=Channel.API)
    return jsonify(case.to_dict()), 200 if before.case_no else 201


# -- my cases ----------------------------------------------------------------------------------------------
@bp.get("/me/cases")
def my_cases() -> Response:
    account = applicant()
    return jsonify({"items": [c.to_dict() for c in get_engine().applicants.cases_of(account.id)]})


@bp.get("/me/messages")
def my_messages() -> Response:
    """The account's message box (受理, 补正, 办结 …), newest first, with the unread count; reading the list
    changes nothing (the app marks what it showed)."""
    account = applicant()
    notifications = get_engine().notifications
    items = [m.to_dict() for m in notifications.messages(account.id)]
    return jsonify({"items": items, "unread": notifications.unread_count(account.id)})


@bp.post("/me/messages/<int:message_id>/read")
def read_message(message_id: int) -> Response:
    """Mark one of the account's messages read (another account's is 404); again keeps the first time."""
    account = applicant()
    return jsonify(get_engine().notifications.mark_read(account.id, message_id).to_dict())


@bp.post("/cases/<case_no>/rating")
def rate(case_no: str) -> tuple[Response, int]:
    """好差评 of an ended case of one's own: ``{"level": 1-5, "comment": "…"}``, once."""
    account = applicant()
    body = json_body()
    level, comment = body.get("level"), body.get("comment", "")
    if not isinstance(comment, str):
        raise _field_problem("comment", "应为文字")
    engine = get_engine()
    if not engine.applications.owns_case(account.id, case_no):
        raise ApiProblem("not_your_case", "只能评价本人申报的办件。")  # unknown and another's alike
    try:
        rating = engine.ratings.rate(
            case_no,
            level=cast(int, level),
            comment=comment,
            channel="online",
            applicant_id=account.id,
            actor=_actor(account),
        )
    except ConflictError as err:
        words = "该办件已评价过,每件只能评价一次。" if err.state == "rated" else "办件办结后才能评价。"
        raise ApiProblem("conflict", words, state=err.state) from None
    return jsonify(rating.to_dict()), 201


# -- tracking ----------------------------------------------------------------------------------------------
def _progress(case: CaseView) -> dict[str, Any]:
    """What anyone with the query code may read (as 办件查询 in the hall): nothing about the applicant."""
    s = case.summary
    bureau = get_engine().bureau
    steps = []
    for t in case.open_tasks:
        section = bureau.section(t.section or "")
        steps.append({"section": section.name if section else "", "name": t.name})
    return {
        "case_no": s.case_no,
        "matter_name": s.matter_name,
        "status": s.status,
        "status_label": s.status_label,
        "status_words": STATUS_WORDS.get(s.status, s.status_label),
        "steps": steps,
        "created_at": s.created_at.isoformat(),
        "accepted_at": s.accepted_at.isoformat() if s.accepted_at else None,
        "committed_due_at": s.committed_due_at.isoformat() if s.committed_due_at else None,
        "finished_at": s.finished_at.isoformat() if s.finished_at else None,
        "paused": s.paused_at is not None,
    }


def _lookup() -> tuple[str, str]:
    case_no = request.args.get("case_no", "").strip().upper()[:MAX_CASE_NO]
    code = request.args.get("query_code", "").strip().upper().replace(" ", "").replace("-", "")[:MAX_CODE]
    return case_no, code


@bp.get("/track")
def track() -> tuple[Response, int]:
    """办件查询 by case number and query code, no token: a wrong code and an unknown case answer alike."""
    case_no, code = _lookup()
    found = get_engine().cases.by_query_code(case_no, code) if case_no and code else None
    if found is None:  # answered, not raised: the throttle counts the 404s it sees
        return problem("not_found", "办件编号或查询码不正确,请核对受理通知书上的编号和查询码。"), 404
    return jsonify(_progress(found)), 200


# -- throttling --------------------------------------------------------------------------------------------
def _login_key() -> str:
    body = request.get_json(silent=True)
    login = body.get("login") if isinstance(body, dict) else None
    # the same counter as the hall's sign-in page: guessing at one login through both counts together
    return "hall-login:" + (login if isinstance(login, str) else "").strip().upper()[:MAX_LOGIN]


def _case_key() -> str:
    return "track-case:" + _lookup()[0]


def throttle(app: Flask, limiter: Limiter, *, by_address: str, by_login: str) -> None:
    """Failed sign-ins per address and per login, as the hall's sign-in; failed lookups per address and per
    case number, as the hall's 办件查询 (the same settings)."""
    sign_in_view = app.view_functions["api.sign_in"]
    per_login = limiter.limit(by_login, key_func=_login_key, deduct_when=lambda r: r.status_code == 401)
    per_address = limiter.limit(by_address, deduct_when=lambda r: r.status_code == 401)
    app.view_functions["api.sign_in"] = cast(Any, per_address(per_login(sign_in_view)))
    track_address = str(
        app.config.get("TRACK_LIMIT_ADDRESS") or os.environ.get("ONEWINDOW_TRACK_LIMIT_ADDRESS") or "20 per 10 minutes"
    )
    track_case = str(
        app.config.get("TRACK_LIMIT_CASE") or os.environ.get("ONEWINDOW_TRACK_LIMIT_CASE") or "10 per hour"
    )
    track_view = app.view_functions["api.track"]
    per_case = limiter.limit(track_case, key_func=_case_key, deduct_when=lambda r: r.status_code == 404)
    per_track_address = limiter.limit(track_address, deduct_when=lambda r: r.status_code == 404)
    app.view_functions["api.track"] = cast(Any, per_track_address(per_case(track_view)))
