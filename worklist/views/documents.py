"""Issued documents on the web: downloads for staff, the preview a task shows before it issues, and the public
verification pages the QR on each document points at (``/verify/<code>``, ``/verify/key``)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from onewindow.engine import KIND_TITLES, ConflictError, DocumentKind, ValidationError

from .. import get_engine
from ..errors import Refusal
from ..i18n import gettext as _
from ..security import current_user

bp = Blueprint("documents", __name__)


def _pdf(data: bytes, filename: str, *, inline: bool = True) -> Response:
    response = Response(data, mimetype="application/pdf")
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/documents/<code>.pdf")
def download(code: str) -> Response:
    """The document as issued (its stored bytes), for staff who may see its case."""
    engine = get_engine()
    view = engine.documents.by_code(code)
    if view is None:
        abort(404)
    engine.cases.check_access(current_user(), view.case_no)
    return _pdf(engine.documents.pdf(view.number), f"{view.title}-{view.number}.pdf")


@bp.post("/cases/<case_no>/delivered")
def delivered(case_no: str) -> BaseResponse:
    """The issuing window enters the courier's delivered date of an express delivery: the case reads 已送达."""
    engine = get_engine()
    user = current_user()
    engine.cases.check_access(user, case_no)
    issuing = {s.code for s in engine.bureau.sections if s.kind.value == "issuing_window"}
    if not issuing & set(user.sections):
        raise Refusal(_("只有统一出证窗口的工作人员可以登记送达。"), user=user.username)
    try:
        day = date.fromisoformat(request.form.get("delivered_on", "").strip())
        engine.documents.confirm_delivery(case_no, delivered_on=day, actor=user.username)
    except ValueError:
        flash(_("请填写送达日期(年-月-日)。"), "error")
    except (ConflictError, ValidationError) as err:
        flash(str(err), "error")
    else:
        flash(_("已登记送达。"), "ok")
    return redirect(url_for("cases.show", case_no=case_no) + "#documents")


@bp.get("/tasks/<task_id>/preview/<kind>.pdf")
def preview(task_id: str, kind: str) -> Response:
    """What completing the task will issue, as a draft (预览, no number, not signed, nothing stored)."""
    engine = get_engine()
    task = engine.tasks.get_for(current_user(), task_id)
    if kind not in engine.documents.kinds_for_task(task_id):
        abort(404)
    title = KIND_TITLES[DocumentKind(kind)]
    return _pdf(engine.documents.preview(task.case_no, kind), f"{title}-preview.pdf")


@bp.get("/verify/key")
def verify_key() -> Response:
    """The bureau's current public key (PEM), as before key rotation; with ``?format=json`` (or ``Accept:
    application/json``) every key the bureau signed with, with its id and validity (from, until, revoked)."""
    registry = get_engine().signing_keys
    current = registry.current()
    if request.args.get("format") == "json" or request.accept_mimetypes.best == "application/json":
        return jsonify({"current": current.key_id, "keys": [k.to_dict() for k in registry.list()]})
    response = Response(current.public_pem, mimetype="text/plain")
    response.headers["Content-Disposition"] = 'inline; filename="onewindow-signing-ed25519.pub.pem"'
    response.headers["X-Onewindow-Key-Id"] = current.key_id
    return response


@bp.get("/verify/key/<key_id>")
def verify_key_by_id(key_id: str) -> Response:
    """One key's public half (PEM), current, rotated out or revoked (its validity in the headers)."""
    found = get_engine().signing_keys.get(key_id[:16])
    if found is None:
        abort(404)
    response = Response(found.public_pem, mimetype="text/plain")
    response.headers["Content-Disposition"] = f'inline; filename="onewindow-{found.key_id}.pub.pem"'
    response.headers["X-Onewindow-Key-Status"] = found.status
    return response


@bp.get("/verify/<code>")
def verify(code: str) -> tuple[str, int]:
    """Is the document behind the QR authentic and current? Its key facts, nothing more."""
    view = get_engine().documents.by_code(code)
    return render_template("documents/verify.html", doc=view, code=code[:16]), 200 if view else 404
