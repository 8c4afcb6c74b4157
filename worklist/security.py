"""Who is signed in, and the rule that every page but the public ones needs a signed-in user.

The check is app-wide (a ``before_request``), so a new view is protected unless it is listed as public.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from onewindow.engine import UserAccount

from .errors import Refusal
from .i18n import gettext as _
from .sessions import current_account

# What 纪检 (inspector) may still post: signing out, the language of the pages and 显示完整 (a reading, posted
# because it is recorded). Everything else is refused.
READ_ONLY_POSTS = frozenset({"auth.logout", "auth.set_language", "cases.reveal"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.set_language",
        "guide.index",
        "guide.matter",
        "guide.diagram",
        "static",
        "hall.index",
        "hall.matter",
        "hall.track",
        # the applicant's pages: the hall's own sign-in (hall_sessions.py) guards them, not the staff's
        "applicant.register",
        "applicant.login",
        "applicant.logout",
        "applicant.home",
        "applicant.apply",
        "applicant.save",
        "applicant.case",
        "applicant.supplement",
        "applicant.rate",
        "applicant.complain",
        "applicant.withdraw",
        "applicant.document",
        "hall_messages.messages",
        "hall_messages.message",
        "hall_messages.sms",
        "documents.verify",
        "documents.verify_key",
        "documents.verify_key_by_id",
        "ops.healthz",
        "ops.readyz",
        "ops.metrics",
    }
)


def current_user() -> UserAccount:
    """The signed-in user (views behind the login check only)."""
    user: UserAccount = g.user
    return user


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never ``//evil.example`` or ``https://…`` (open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _load_user() -> BaseResponse | None:
    if request.path.startswith("/api/"):
        g.user = None  # the API reads bearer tokens only, never the session cookie (worklist/api/auth.py)
        return None
    # The session is a server-side record (sessions.py): sign-out, a new password, deactivation and the
    # idle and absolute timeouts end it there, whatever cookie is replayed.
    g.user = current_account()
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        if request.endpoint is None:
            return None  # a 404 stays a 404
        nxt = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=nxt))
    inspector = g.user is not None and g.user.is_inspector
    if inspector and request.method not in SAFE_METHODS and request.endpoint not in READ_ONLY_POSTS:
        # 纪检 reads everything and changes nothing: one rule here, whatever page posts.
        raise Refusal(_("纪检监察账号只能查看,不能办理或修改。"), user=g.user.username, what="post")
    return None


def _headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if g.get("user") is not None:
        response.headers.setdefault("Cache-Control", "no-store")  # worklists are personal
    return response


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
    app.after_request(_headers)
