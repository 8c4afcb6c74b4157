"""Engine errors become pages: 404, 403, 409, 400 and 503, each with the one-line message of the error;
5xx pages show a fixed text only (what went wrong inside is logged, never shown).

A database that went away or stays locked reaches here as the engine's ``DatabaseError`` (the engine maps
SQLAlchemy's errors where it opens sessions): a clear 503, not a stack trace.

Views that show a form catch ``ValidationError`` themselves (inline field errors); what reaches these
handlers is shown as a page with the status code, never as a traceback.
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
