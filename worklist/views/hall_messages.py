"""The hall's message box (消息盒子, /hall/messages): what the bureau told the signed-in account about its cases
(受理, 补正, 办结 …), newest first, unread ones highlighted, each linking to its case; the unread count is a
badge in the hall's header. Opening the list or a message marks it read. The account's SMS (短信提醒) is
turned on or off on /hall/me; the box records every message either way.

Another account's message answers 404 like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from onewindow.engine import ApplicantMessage, NotFoundError

from .. import get_engine, hall_sessions
from ..i18n import N_
from ..i18n import gettext as _
from .hall_account import me, signed_in

bp = Blueprint("hall_messages", __name__, url_prefix="/hall")

MAX_ID = 12  # digits of a message id in a URL
# The box's headings (the engine's notification_texts.KINDS), translated where they are shown.
TITLES = (
    N_("已受理"),
    N_("请补正材料"),
    N_("补正材料已收到"),
    N_("不予受理"),
    N_("审批通过,结果待领取"),
    N_("不予许可,请领取决定书"),
    N_("已办结"),
    N_("已办结(不予许可)"),
    N_("已终止办理"),
    N_("已撤回"),
    N_("办理通知"),
)


def case_link(message: ApplicantMessage) -> str:
    """The account's own case page, or for a window case its 办件查询 with the query code."""
    if message.own_case:
        return url_for("applicant.case", case_no=message.case_no)
    return url_for("hall.track", case=message.case_no, code=message.query_code or "")


@bp.app_context_processor
def _badge() -> dict[str, Any]:
    def unread_messages() -> int:
        account = hall_sessions.current_applicant()
        return get_engine().notifications.unread_count(account.id) if account is not None else 0

    return {"unread_messages": unread_messages, "message_link": case_link}


@bp.get("/messages")
@signed_in
def messages() -> str:
    """The list as it stands (unread ones highlighted), then all of it is read."""
    engine = get_engine()
    account = me()
    found = engine.notifications.messages(account.id)
    unread = [m.id for m in found if m.unread]
    if unread:
        engine.notifications.mark_all_read(account.id, unread)
    return render_template("hall/messages.html", messages=found, unread_shown=len(unread))


@bp.get("/messages/<message_id>")
@signed_in
def message(message_id: str) -> str:
    if not message_id.isdigit() or len(message_id) > MAX_ID:
        raise NotFoundError.unknown("message", message_id[:20])
    engine = get_engine()
    account = me()
    before = engine.notifications.message(account.id, int(message_id))
    engine.notifications.mark_read(account.id, before.id)
    return render_template("hall/message.html", message=before)


@bp.post("/me/sms")
@signed_in
def sms() -> BaseResponse:
    """短信提醒 on or off (the checkbox ``sms``); the message box keeps recording either way."""
    enabled = request.form.get("sms") == "on"
    get_engine().notifications.set_sms(me().id, enabled)
    flash(_("已开启短信提醒。") if enabled else _("已关闭短信提醒;办理进度仍会记入消息盒子。"), "ok")
    return redirect(url_for("applicant.home") + "#sms")
