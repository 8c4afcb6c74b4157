"""审管信息: a supervising department's inbox of approval results (认领 each, report a flaw found in
supervision), and the oversight page 审管联动 监控 of what is not delivered or not acknowledged."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from onewindow.engine import NotFoundError, ValidationError

from .. import get_engine
from ..i18n import gettext as _
from ..security import current_user, safe_next

bp = Blueprint("supervision", __name__, url_prefix="/supervision")


@bp.get("/")
def inbox() -> str:
    user = current_user()
    if not user.is_supervisor:
        abort(404)
    engine = get_engine()
    messages = engine.outbox.inbox(user)
    department = engine.bureau.department(user.department or "")
    seal_requests = engine.documents.seal_requests(user)
    return render_template(
        "supervision/inbox.html", messages=messages, department=department, seal_requests=seal_requests
    )


@bp.post("/seals/<int:request_id>")
def apply_seal(request_id: int) -> Response:
    """出省双章: the department's supervisor applies its seal (the one bureau.toml gives the department)."""
    user = current_user()
    if not user.is_supervisor:
        abort(404)
    doc = get_engine().documents.apply_second_seal(user, request_id)
    department = get_engine().bureau.department(user.department or "")
    flash(
        _(
            "已加盖{department}印章:{title} {number}",
            department=department.name if department else "",
            title=doc.title,
            number=doc.number,
        ),
        "ok",
    )
    return redirect(url_for("supervision.inbox"))


def _message_page(message_id: str, *, flaw: str = "", error: str = "", key: str = "") -> str:
    user = current_user()
    engine = get_engine()
    m = engine.outbox.message_for(user, message_id)
    return render_template(
        "supervision/message.html",
        m=m,
        feedback=engine.feedback.for_message(user, m.id),
        # a new key per form shown: a report sent twice (a double click, a resend) opens one correction case
        feedback_key=key or uuid.uuid4().hex,
        flaw=flaw,
        error=error,
    )


@bp.get("/<message_id>")
def message(message_id: str) -> str:
    return _message_page(message_id)


@bp.post("/<message_id>/feedback")
def feedback(message_id: str) -> Response | tuple[str, int]:
    flaw = request.form.get("flaw", "")[:4000]
    key = request.form.get("key", "")[:100]
    try:
        found = get_engine().feedback.report_on_message(current_user(), message_id, flaw, key=key)
    except ValidationError as err:
        text = _("请写明瑕疵(不超过 2000 字)") if "flaw" in err.by_field else str(err)
        return _message_page(message_id, flaw=flaw, error=text, key=key), 400
    flash(_("已反馈,整改办件 {case_no} 已开启", case_no=found.correction_case_no), "ok")
    return redirect(url_for("supervision.message", message_id=message_id))


@bp.post("/<message_id>/acknowledge")
def acknowledge(message_id: str) -> Response:
    m = get_engine().outbox.acknowledge(current_user(), message_id)
    flash(_("已认领 {case_no} 的审批结果", case_no=m.case_no), "ok")
    return redirect(safe_next(request.form.get("next"), url_for("supervision.inbox")))


@bp.get("/monitor")
def monitor() -> str:
    user = current_user()
    if not (user.is_supervisor or user.role in ("admin", "chief")):
        raise NotFoundError.unknown("page", "supervision/monitor")
    overview = get_engine().outbox.monitor(user)
    return render_template("supervision/monitor.html", departments=overview)
