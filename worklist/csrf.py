"""CSRF protection: a random token per session, required on every state-changing request.

Equivalent to Flask-WTF's ``CSRFProtect`` without the dependency: forms carry ``csrf_token()`` in a hidden
field (or scripts send ``X-CSRF-Token``); the comparison is constant-time. ``CSRF_ENABLED=False`` turns
it off for tests that do not exercise it.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, request, session
from werkzeug.exceptions import BadRequest

__all__ = ["CSRFError", "csrf_token", "init_app"]

SESSION_KEY = "_csrf"
FIELD = "csrf_token"


class CSRFError(BadRequest):
    description = "csrf"


def csrf_token() -> str:
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def _check() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
        return
    expected = session.get(SESSION_KEY)
    sent = request.form.get(FIELD) or request.headers.get("X-CSRF-Token") or ""
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CSRFError()


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _protect() -> None:
        if app.config.get("CSRF_ENABLED", True):
            _check()
