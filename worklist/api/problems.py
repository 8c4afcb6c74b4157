"""Errors of the JSON API as ``application/problem+json`` (RFC 9457): ``type``, ``title``, ``status``,
``detail`` and a stable ``code`` member that clients act on (the titles and details are Chinese text for
people and may be reworded; a code never changes its meaning).

Every error of a request under /api/ comes out this way, whoever raised it: a view, the bearer check, the
input guard, the upload limit, the throttle, or routing (an unknown path, a wrong method). Nothing under
/api/ ever answers with an HTML page.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response, request
from werkzeug.exceptions import HTTPException

from onewindow.engine import (
    ConflictError,
    DatabaseError,
    FileRejectedError,
    NotFoundError,
    OnewindowError,
    PermissionDeniedError,
    ValidationError,
    WorkflowError,
)

__all__ = [
    "CODES",
    "PROBLEM_TYPE",
    "ApiProblem",
    "from_error",
    "from_http",
    "from_problem",
    "is_api_request",
    "problem",
]

log = logging.getLogger(__name__)

PREFIX = "/api/"
PROBLEM_TYPE = "urn:onewindow:problem:"  # + code: a stable URI per problem type that needs no web page

# code: (HTTP status, title). Documented in the README ("API for integrators") and the OpenAPI document.
CODES: dict[str, tuple[int, str]] = {
    "token_missing": (401, "需要访问令牌"),
    "token_invalid": (401, "访问令牌无效"),
    "sign_in_failed": (401, "登录失败"),
    "scope_missing": (403, "权限范围不足"),
    "forbidden": (403, "无权操作"),
    "not_your_case": (403, "不是本人的办件"),
    "not_found": (404, "未找到"),
    "case_not_shared": (404, "未向本部门推送该办件的审批结果"),
    "method_not_allowed": (405, "不支持的请求方法"),
    "conflict": (409, "状态已变化"),
    "idempotency_key_reused": (409, "幂等键已用于另一请求"),
    "too_large": (413, "请求内容过大"),
    "unsupported_media_type": (415, "请求内容类型不受支持"),
    "bad_request": (400, "请求无效"),
    "idempotency_key_missing": (400, "缺少幂等键"),
    "invalid_json": (400, "请求体不是有效的 JSON"),
    "validation_failed": (422, "数据校验未通过"),
    "file_rejected": (422, "文件未被接受"),
    "workflow_failed": (422, "流程执行出错"),
    "rate_limited": (429, "请求过于频繁"),
    "internal_error": (500, "服务器内部错误"),
    "unavailable": (503, "服务暂不可用"),
}


class ApiProblem(Exception):
    """Raised by API code: becomes the problem response of ``code``."""

    def __init__(self, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def problem(code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    status, title = CODES[code]
    body = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": detail, "code": code, **extra}
    response = Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        error = ' error="invalid_token"' if code == "token_invalid" else ""
        response.headers["WWW-Authenticate"] = f'Bearer realm="onewindow"{error}'
    return response


def from_problem(err: ApiProblem) -> Response:
    return problem(err.code, err.detail, headers=err.headers, **err.extra)


# What a NotFoundError's ``kind`` names, in the detail's words; another's task or case reads the same.
KINDS = {
    "case": "办件",
    "task": "任务",
    "matter": "事项",
    "application": "申请",
    "file": "文件",
    "user": "用户",
    "applicant": "账号",
}


def _field_errors(err: ValidationError) -> list[dict[str, str]]:
    return [{"field": e.field, "message": e.message} for e in err.errors]


def from_error(err: OnewindowError) -> Response:
    """An engine error as its problem; the engine's one-line message goes into ``detail`` where it helps
    the caller (it names the field, task or case) and never for 5xx (those details are logged)."""
    if isinstance(err, FileRejectedError):
        detail = f"文件“{err.filename[:80]}”未被接受({err.reason})"
        return problem("file_rejected", detail, reason=err.reason, errors=_field_errors(err))
    if isinstance(err, ValidationError):
        return problem("validation_failed", f"数据校验未通过:{err}", errors=_field_errors(err))
    if isinstance(err, NotFoundError):
        what = KINDS.get(err.kind, "")
        return problem("not_found", f"未找到{what}“{err.key[:80]}”。" if what and err.key else "未找到。")
    if isinstance(err, PermissionDeniedError):
        return problem("forbidden", f"无权操作:{err}")
    if isinstance(err, ConflictError):
        return problem("conflict", f"状态已变化:{err}", state=err.state)
    if isinstance(err, DatabaseError):
        log.error("%s: %s", type(err).__name__, err)
        return problem("unavailable", "数据库暂不可用,请稍后重试。", headers={"Retry-After": "30"})
    if isinstance(err, WorkflowError):
        if err.incident is not None:
            log.warning("%s: %s", type(err).__name__, err)
            detail = f"流程执行出错,本次提交未保存:已登记为流程异常 #{err.incident},请联系管理员。"
            return problem("workflow_failed", detail, incident=err.incident)
        log.error("%s: %s", type(err).__name__, err)
        return problem("internal_error", "服务器内部错误,请稍后重试或联系管理员。")
    return problem("bad_request", f"请求无效:{err}")


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def from_http(err: HTTPException) -> Response:
    status = err.code or 500
    code = HTTP_CODES.get(status, "bad_request" if 400 <= status < 500 else "internal_error")
    details = {
        "not_found": "没有这个接口地址。",
        "method_not_allowed": "该接口不支持此请求方法。",
        "too_large": "请求内容过大。",
        "unsupported_media_type": "请求内容类型不受支持。",
        "bad_request": "请求无效。",
        "internal_error": "服务器内部错误,请稍后重试或联系管理员。",
    }
    response = problem(code, details[code])
    methods = getattr(err, "valid_methods", None)
    if status == 405 and methods:
        response.headers["Allow"] = ", ".join(methods)
    return response
