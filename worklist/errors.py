"""Engine errors become pages: 404, 403, 409, 400 and 503, each with the one-line message of the error;
5xx pages show a fixed text only (what went wrong inside is logged, never shown).

A database that went away or stays locked reaches here as the engine's ``DatabaseError`` (the engine maps
SQLAlchemy's errors where it opens sessions): a clear 503, not a stack trace.

Views that show a form catch ``ValidationError`` themselves (inline field errors); what reaches these
handlers is shown as a page with the status code, never as a traceback.

403, 404 and 409 pages speak the reader's language: the engine's messages are one English line for the log
and the CLI (with task ids, section codes, user names), so these pages say what happened from the error's
attributes (``kind``, ``case_no``, ``task_id``) instead. A refusal the worklist words itself for the reader
(through ``_()``) is a ``Refusal`` and shows its own message.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from onewindow.engine import (
    ConflictError,
    DatabaseError,
    NotFoundError,
    OnewindowError,
    PermissionDeniedError,
    ValidationError,
    WorkflowError,
)

from .api.problems import ApiProblem, from_error, from_http, from_problem, is_api_request, problem
from .i18n import N_
from .i18n import gettext as _
from .observability import request_id

log = logging.getLogger(__name__)

STATUS = (
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (ConflictError, 409),
    (ValidationError, 400),
    (DatabaseError, 503),
    (WorkflowError, 500),
)


class Refusal(PermissionDeniedError):
    """A 403 worded for the reader (its message went through ``_()``): the page shows the message itself."""


# What a NotFoundError's ``kind`` is called on a page; its ``key`` (an id, a code) is not shown, but a case
# number is: the clerk or applicant typed or followed it.
THINGS = {
    "case": N_("办件"),
    "task": N_("任务"),
    "matter": N_("事项"),
    "file": N_("材料文件"),
    "document": N_("文书"),
    "document kind": N_("文书"),
    "application": N_("申请"),
    "applicant": N_("申请人账号"),
    "user": N_("用户"),
    "staff member": N_("工作人员"),
    "section": N_("科室"),
    "department": N_("部门"),
    "message": N_("消息"),
    "outbox message": N_("消息"),
    "finding": N_("稽核问题"),
    "96166 record": N_("热线记录"),
    "seal request": N_("用印申请"),
}


def reader_detail(err: OnewindowError) -> str:
    """What a 403, 404 or 409 page tells the reader, in the reader's language, without ids or codes."""
    if isinstance(err, Refusal):
        return err.message
    if isinstance(err, NotFoundError):
        if err.kind == "case" and err.key:
            return _("找不到办件 {case},或它不在你的办理范围内。", case=err.key)
        thing = THINGS.get(err.kind)
        if thing is None:
            return _("找不到所要的页面或内容:地址可能有误,或已被删除。")
        return _("找不到该{thing}:地址可能有误、已被删除,或不在你的办理范围内。", thing=_(thing))
    if isinstance(err, PermissionDeniedError):
        return _("你没有权限执行此操作:它属于其他科室,或只能由认领人、科长或其他岗位办理。")
    if isinstance(err, ConflictError):
        if err.task_id:
            return _("该任务在此期间已被他人处理(已办结、已认领或已取消),你的提交未保存。请刷新查看最新状态。")
        if err.case_no:
            return _("办件 {case} 在此期间已有变化,你的操作未保存。请刷新查看最新状态。", case=err.case_no)
        return _("所办理的内容在此期间已有变化,你的操作未保存。请刷新查看最新状态。")
    return str(err)


def error_page(status: int, detail: str = "") -> tuple[str, int]:
    return render_template("errors/error.html", status=status, detail=detail), status


def _domain(err: OnewindowError) -> tuple[str, int] | Response:
    if is_api_request():
        return from_error(err)
    if isinstance(err, WorkflowError) and err.incident is not None:
        # A step failed in the process and was rolled back, its incident recorded: not the server's fault
        # nor the clerk's, and nothing to retry until an administrator fixes the process.
        log.warning("%s: %s", type(err).__name__, err)
        return render_template("errors/error.html", status=422, incident=err.incident, detail=""), 422
    status = next((code for kind, code in STATUS if isinstance(err, kind)), 400)
    if status >= 500:  # the details ("database is locked", a script's error) are for the log, not the page
        log.error("%s: %s", type(err).__name__, err)
        return error_page(status)
    if status in (403, 404, 409):
        log.info("%s: %s", type(err).__name__, err)  # the engine's line, with its ids, for the log only
        return error_page(status, reader_detail(err))
    return error_page(status, str(err))


def _http(err: HTTPException) -> tuple[str, int] | Response:
    if is_api_request():
        return from_http(err)
    if isinstance(err, CSRFError):
        return render_template("errors/error.html", status=400, csrf=True, detail=""), 400
    return error_page(err.code or 500)


def _unexpected(err: Exception) -> tuple[str, int] | Response:
    log.exception("unexpected error", exc_info=err, extra={"request_id": request_id()})
    if is_api_request():
        return problem("internal_error", f"服务器内部错误,请求编号 {request_id()}。")
    return error_page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiProblem, from_problem)
    app.register_error_handler(OnewindowError, _domain)
    app.register_error_handler(HTTPException, _http)
    if not app.config.get("TESTING"):
        app.register_error_handler(Exception, _unexpected)
