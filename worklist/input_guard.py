"""Odd input is refused at the edge with a 400 and a message, before any view or database sees it.

PostgreSQL cannot store a NUL character in text and fails the whole statement (a 500 on every form, even
the sign-in page); other control characters have no place in a form either. Every query and form value,
every field name and every URL part is checked once per request. Numbers in the URL (the page number) go
through :func:`bounded_int`, so 2**62 never reaches an ``OFFSET``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import BadRequest

from .api.problems import is_api_request, problem
from .i18n import gettext as _

__all__ = ["MAX_PAGE", "InvalidInput", "bounded_int", "init_app"]

# C0 controls but tab, line feed and carriage return (which textareas send), and DEL.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_PAGE = 1_000_000  # far past any real list (a page holds 20 rows), far below a 64-bit OFFSET


class InvalidInput(BadRequest):
    """A value no form of the worklist takes; ``field`` names where it was."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _printable(name: str) -> str:
    cleaned = _FORBIDDEN.sub("?", name)
    return cleaned if len(cleaned) <= 40 else cleaned[:40] + "…"


def _check(pairs: Iterable[tuple[str, str]]) -> None:
    for name, value in pairs:
        if _FORBIDDEN.search(name) or _FORBIDDEN.search(value):
            field = _printable(name)
            raise InvalidInput(field, _("“{field}”含有无法接受的控制字符(如空字符),请删除后重新提交。", field=field))


def bounded_int(name: str, default: int, *, low: int, high: int) -> int:
    """The query value ``name`` as an int in ``[low, high]``; ``default`` when absent or not a number;
    a 400 when it is a number out of range (rather than a database overflow further on)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    if not low <= value <= high:
        raise InvalidInput(name, _("“{field}”应为 {low} 到 {high} 之间的数字。", field=name, low=low, high=high))
    return value


def _guard() -> None:
    _check(request.args.items(multi=True))
    _check((name, str(value)) for name, value in (request.view_args or {}).items())
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        _check(request.form.items(multi=True))
        _check((name, f.filename or "") for name, f in request.files.items(multi=True))


def _page(err: InvalidInput) -> tuple[str, int] | Response:
    if is_api_request():
        return problem("bad_request", err.message, errors=[{"field": err.field, "message": err.message}])
    return render_template("errors/error.html", status=400, detail=err.message), 400


def init_app(app: Flask) -> None:
    """Register first, so that sign-in, CSRF and the views only ever see checked input."""
    app.before_request(_guard)
    app.register_error_handler(InvalidInput, _page)
