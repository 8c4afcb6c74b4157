"""96166 in the worklist: the window and administrative staff log calls and visits, answer consultations
on the spot and complaints within their reply limit (yellow/red like every task), deciding whether each
complaint is upheld. 纪检 and auditors read the register."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from onewindow.engine import HOTLINE_CHANNELS, HOTLINE_KINDS, ConflictError, NotFoundError, ValidationError

from .. import get_engine
from ..i18n import gettext as _
from ..security import current_user

bp = Blueprint("hotline", __name__, url_prefix="/hotline")

WRITERS = ("clerk", "chief", "admin")  # the window's and the office's staff take the calls
READERS = (*WRITERS, "auditor", "inspector")


def _reader() -> None:
    if current_user().role not in READERS:
        raise NotFoundError.unknown("page", "hotline")


@bp.get("/")
def index() -> str:
    _reader()
    engine = get_engine()
    return render_template(
        "hotline/index.html",
        open_records=engine.hotline.list(open_only=True),
        recent=[r for r in engine.hotline.list(limit=50) if not r.open],
        channels=HOTLINE_CHANNELS,
        kinds=HOTLINE_KINDS,
        can_act=current_user().role in WRITERS,
    )


@bp.post("/")
def add() -> Response:
    _reader()
    f = request.form
    try:
        record = get_engine().hotline.add(
            channel=f.get("channel", ""), caller=f.get("caller", ""), text=f.get("text", ""),
            kind=f.get("kind", "consultation"), matter=f.get("matter"), case_no=f.get("case_no"),
            window=f.get("window"), clerk=f.get("clerk"), answer=f.get("answer"), user=current_user().username,
        )  # fmt: skip
    except (ValidationError, NotFoundError) as err:
        flash(_("未能登记:") + " " + str(err), "error")
    else:
        flash(_("已登记第 {id} 号。", id=record.id), "ok")
    return redirect(url_for("hotline.index"))


@bp.post("/<int:record_id>/answer")
def answer(record_id: int) -> Response:
    _reader()
    upheld = {"yes": True, "no": False}.get(request.form.get("upheld", ""))
    try:
        get_engine().hotline.answer(
            record_id, text=request.form.get("text", ""), upheld=upheld, user=current_user().username
        )
    except (ValidationError, ConflictError) as err:
        flash(_("未能答复:") + " " + str(err), "error")
    else:
        flash(_("已答复第 {id} 号。", id=record_id), "ok")
    return redirect(url_for("hotline.index"))
