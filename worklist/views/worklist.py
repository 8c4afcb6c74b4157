"""My worklist: the READY tasks in the lanes of my sections, most urgent first, filtered and paged."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request

from onewindow.engine import WorklistFilter

from .. import get_engine
from ..i18n import N_
from ..input_guard import MAX_PAGE, bounded_int
from ..security import current_user
from ..templating import matters, remember_user_names

bp = Blueprint("worklist", __name__)


def page_number() -> int:
    return bounded_int("page", 1, low=1, high=MAX_PAGE)


@bp.get("/")
def index() -> str:
    user = current_user()
    engine = get_engine()
    filters = WorklistFilter(
        matter=request.args.get("matter") or None,
        section=request.args.get("section") or None,
        mine=request.args.get("mine") == "1",
        unclaimed=request.args.get("unclaimed") == "1",
        search=request.args.get("q", "")[:100],
    )
    page = engine.tasks.worklist(user, filters, page=page_number(), per_page=current_app.config["PER_PAGE"])
    remember_user_names({t.claimed_by or "" for t in page.rows})
    chief_sections = [s for s in user.sections if user.chief_of(s)]
    members = engine.users.members(chief_sections) if chief_sections else {}
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "worklist/index.html",
        page=page,
        filters=filters,
        matters=list(matters().values()),
        members=members,
        args=args,
        supervision_waiting=engine.outbox.waiting_count(user),  # a supervisor's results waiting for 认领
    )


# The worklist's keyboard shortcuts (worklist/static/app.js), listed on the help page the header links to.
SHORTCUTS = (
    ("j", N_("下一行")),
    ("k", N_("上一行")),
    ("x", N_("勾选或取消勾选当前行(认领所选)")),
    ("c", N_("认领当前行的任务")),
    ("o", N_("打开当前行的任务")),
    ("/", N_("跳到搜索框")),
    ("?", N_("打开本帮助页")),
)


@bp.get("/help/shortcuts")
def shortcuts() -> str:
    return render_template("worklist/shortcuts.html", shortcuts=SHORTCUTS)
