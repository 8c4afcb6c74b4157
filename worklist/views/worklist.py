"""My worklist: the READY tasks in the lanes of my sections, most urgent first, filtered and paged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from onewindow.engine import MAX_FILTER_NAME, MAX_SAVED_FILTERS, WORKLIST_SORTS, ValidationError, WorklistFilter

from .. import get_engine
from ..collation import collation_key
from ..i18n import N_
from ..i18n import gettext as _
from ..input_guard import MAX_PAGE, bounded_int
from ..security import current_user
from ..templating import matter_name, matters, remember_user_names

bp = Blueprint("worklist", __name__)


def page_number() -> int:
    return bounded_int("page", 1, low=1, high=MAX_PAGE)


# The query parameters a worklist view is made of: what a saved filter keeps (never the page).
VIEW_PARAMS = ("matter", "section", "mine", "unclaimed", "q", "sort", "dir")


def view_args(args: Mapping[str, str]) -> dict[str, str]:
    """The worklist view's own parameters of ``args``, non-empty, in a fixed order."""
    return {k: args[k][:100] for k in VIEW_PARAMS if args.get(k)}


def matter_order() -> tuple[str, ...]:
    """The deployed matters' keys in the order of the names the 事项 column shows (the reader's language),
    by key where two are the same. Chinese names sort by their pinyin (企业 qi < 食品 shi < 外商 wai), as
    Chinese lists are read, not by character code."""
    names = {key: matter_name(m) for key, m in matters().items()}
    return tuple(sorted(names, key=lambda key: (collation_key(names[key]), key)))


@bp.get("/")
def index() -> str:
    user = current_user()
    engine = get_engine()
    sort = request.args.get("sort", "due")
    filters = WorklistFilter(
        matter=request.args.get("matter") or None,
        section=request.args.get("section") or None,
        mine=request.args.get("mine") == "1",
        unclaimed=request.args.get("unclaimed") == "1",
        search=request.args.get("q", "")[:100],
        sort=sort if sort in WORKLIST_SORTS else "due",  # an unknown column: the default order, not an error page
        descending=request.args.get("dir") == "desc",
        matter_order=matter_order() if sort == "matter" else (),
    )
    page = engine.tasks.worklist(user, filters, page=page_number(), per_page=current_app.config["PER_PAGE"])
    remember_user_names({t.claimed_by or "" for t in page.rows})
    chief_sections = [s for s in user.sections if user.chief_of(s)]
    members = engine.users.members(chief_sections) if chief_sections else {}
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}
    current = view_args(request.args)
    saved = engine.saved_filters.for_user(user.username)
    return render_template(
        "worklist/index.html",
        page=page,
        filters=filters,
        matters=list(matters().values()),
        members=members,
        args=args,
        supervision_waiting=engine.outbox.waiting_count(user),  # a supervisor's results waiting for 认领
        sort_link=lambda key: url_for(
            "worklist.index",
            **{**current, "sort": key, "dir": "desc" if filters.sort == key and not filters.descending else "asc"},
        ),
        saved_filters=saved,
        current_query=urlencode(current),
        saved_current=next((f.id for f in saved if f.query == urlencode(current)), None),
    )


@bp.post("/filters")
def save_filter() -> Response:
    """保存当前筛选: the worklist's current filter and sort under a name of the user's choice."""
    user = current_user()
    query = urlencode(view_args(dict(parse_qsl(request.form.get("query", "")))))
    name = request.form.get("name", "").strip()
    back = url_for("worklist.index") + (f"?{query}" if query else "")
    if not name:
        flash(_("请为要保存的筛选起个名字。"), "error")
        return redirect(back)
    try:
        get_engine().saved_filters.save(user.username, name, query)
    except ValidationError:
        flash(_("筛选名称不能超过 {n} 字,且最多保存 {m} 个筛选。", n=MAX_FILTER_NAME, m=MAX_SAVED_FILTERS), "error")
        return redirect(back)
    flash(_("已保存筛选:{name}。", name=name), "ok")
    return redirect(back)


@bp.post("/filters/<int:filter_id>/delete")
def delete_filter(filter_id: int) -> Response:
    get_engine().saved_filters.remove(current_user().username, filter_id)  # another user's: 404
    flash(_("已删除保存的筛选。"), "ok")
    return redirect(url_for("worklist.index"))


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
