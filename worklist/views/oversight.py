"""效能监察: the leaders' dashboard of a month (chiefs, admins, auditors and 纪检 once they exist): per
section the cases received, finished and on time, working days (mean, p90), overdue now, ratings, 96166
complaints and 稽核 findings, with
bar charts drawn on the server as SVG, and the month's 千分制 ranking."""

from __future__ import annotations

import re

from flask import Blueprint, render_template, request
from markupsafe import Markup

from onewindow.engine import EfficiencyReport, NotFoundError, bar_chart_svg

from .. import get_engine
from ..i18n import gettext as _
from ..security import current_user

bp = Blueprint("oversight", __name__, url_prefix="/oversight")

# Who reads the dashboard; roles the bureau has not created yet simply have no accounts.
READERS = ("chief", "admin", "auditor", "inspector")
MONTH = re.compile(r"^\d{4}-\d{2}$")


def _charts(report: EfficiencyReport) -> list[Markup]:
    labels = [s.name for s in report.sections]
    volume = bar_chart_svg(
        _("受理、办结与当前超期"),
        labels,
        [
            (_("受理"), [s.received for s in report.sections]),
            (_("办结"), [s.finished for s in report.sections]),
            (_("当前超期"), [s.overdue_now for s in report.sections]),
        ],
    )
    days = bar_chart_svg(
        _("办结用时(工作日)"),
        labels,
        [(_("平均"), [s.mean_days for s in report.sections]), (_("第90百分位"), [s.p90_days for s in report.sections])],
    )
    # the SVG is built from escaped text only (bar_chart_svg escapes every label)
    watch = bar_chart_svg(
        _("差评、投诉与稽核问题"),
        labels,
        [
            (_("差评"), [s.bad_ratings for s in report.sections]),
            (_("投诉"), [s.complaints for s in report.sections]),
            (_("稽核问题"), [s.findings for s in report.sections]),
        ],
    )
    return [Markup(volume), Markup(days), Markup(watch)]


@bp.get("/")
def dashboard() -> str:
    user = current_user()
    if user.role not in READERS:
        raise NotFoundError.unknown("page", "oversight")
    engine = get_engine()
    asked = request.args.get("month", "")
    report = engine.efficiency.month(asked if MONTH.match(asked) else None)
    scores = engine.scores.month(report.month)
    return render_template(
        "oversight/dashboard.html", report=report, scores=scores, charts=_charts(report), month=report.month
    )
