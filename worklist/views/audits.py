"""稽核 in the worklist: the month's sample with each case's checklist (pass, or a finding with its severity
and text), the findings with their 整改通知 cases (the auditor accepts or rejects the chief's answer), and
the 追责 register. Auditors and administrators act here; 纪检 reads it (and every other page) only."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from onewindow.engine import (
    AUDIT_ROLES,
    CHINA_TZ,
    ConflictError,
    NotFoundError,
    ValidationError,
)

from .. import get_engine
from ..errors import Refusal
from ..i18n import gettext as _
from ..security import current_user

bp = Blueprint("audits", __name__, url_prefix="/audit")

READERS = ("admin", "auditor", "inspector")
MONTH = re.compile(r"^\d{4}-\d{2}$")


def _month(value: str | None) -> str:
    if value and MONTH.match(value):
        return value
    today = get_engine().clock.now().astimezone(CHINA_TZ)
    last = datetime(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    return f"{last:%Y-%m}"  # the month audited is the one just ended


def _reader() -> None:
    if current_user().role not in READERS:
        raise NotFoundError.unknown("page", "audit")


def _actor() -> str:
    user = current_user()
    if user.role not in AUDIT_ROLES:
        raise Refusal(_("只有稽核人员可以抽样、登记问题和审核整改。"), user=user.username)
    return user.username


@bp.get("/")
def index() -> str:
    _reader()
    engine = get_engine()
    month = _month(request.args.get("month"))
    return render_template(
        "audits/index.html",
        month=month,
        sample=engine.audits.sample_of(month),
        findings=engine.audits.findings(month=month),
        open_findings=engine.audits.findings(open_only=True),
        sanctions=engine.audits.sanctions(month=month),
        checklist=engine.audits.checklist,
        severities=engine.audits.severities,
        can_act=current_user().role in AUDIT_ROLES,
        rate=f"{engine.oversight.rate_percent:g}%",
    )


def _back(month: str) -> Response:
    return redirect(url_for("audits.index", month=month))


@bp.post("/sample")
def sample() -> Response:
    _reader()
    month = request.form.get("month", "")
    try:
        drawn = get_engine().audits.sample(
            month, rate=request.form.get("rate") or None, seed=request.form.get("seed") or None, user=_actor()
        )
    except (ValidationError, ConflictError) as err:
        flash(_("未能抽样:") + " " + str(err), "error")
        return _back(month if MONTH.match(month) else _month(None))
    flash(_("已抽取 {n} 件(随机种子 {seed})。", n=len(drawn.cases), seed=drawn.seed), "ok")
    return _back(month)


@bp.post("/check")
def check() -> Response:
    _reader()
    month, case_no, item = (request.form.get(k, "") for k in ("month", "case_no", "item"))
    engine = get_engine()
    try:
        if request.form.get("result") == "finding":
            found = engine.audits.record_finding(
                case_no,
                item=item,
                text=request.form.get("text", ""),
                severity=request.form.get("severity") or None,
                user=_actor(),
            )
            flash(_("已登记问题,整改通知 {case_no} 已发给科室负责人。", case_no=found.rectification_case_no), "ok")
        else:
            engine.audits.pass_item(case_no, item=item, user=_actor())
    except (ValidationError, ConflictError) as err:
        flash(_("未能登记:") + " " + str(err), "error")
    return _back(month)


@bp.post("/findings/<int:finding_id>/review")
def review(finding_id: int) -> Response:
    _reader()
    accepted = request.form.get("accepted") == "yes"
    try:
        done = get_engine().audits.review(
            finding_id, accepted=accepted, opinion=request.form.get("opinion", ""), user=_actor()
        )
    except (ValidationError, ConflictError) as err:
        flash(_("未能审核:") + " " + str(err), "error")
    else:
        flash(_("整改已销号。") if done.state == "accepted" else _("已退回重新整改(督办)。"), "ok")
    return _back(request.form.get("month", ""))
