"""Systems' endpoints: matters, cases, the worklist's tasks, claim and complete, as the key's user.

Each one asks the engine exactly what the worklist's page asks for the same user, so the rules are the
worklist's: a clerk's key lists the tasks of his sections, opens only the cases they touch (anything else
is 404, as unknown as a missing one), and completes a task only with form data its JSON Schema accepts.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from werkzeug.wrappers import Response

from onewindow.engine import CaseStatus, Matter, Page, WorklistFilter

from .. import get_engine
from . import bp
from .auth import json_body, staff
from .problems import ApiProblem

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


def int_arg(name: str, default: int, *, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        message = f"应为 {low} 到 {high} 之间的整数"
        raise ApiProblem(
            "validation_failed", f"查询参数 {name} {message}。", errors=[{"field": name, "message": message}]
        )
    return int(raw)


def flag_arg(name: str) -> bool:
    return request.args.get(name, "").strip().lower() in ("1", "true", "yes")


def paged(page: Page[Any]) -> dict[str, Any]:
    return {
        "items": [row.to_dict() for row in page.rows],
        "total": page.total,
        "total_is_lower_bound": page.more,
        "page": page.page,
        "per_page": page.per_page,
        "pages": page.pages,
    }


def matter_dict(m: Matter, *, online: bool) -> dict[str, Any]:
    return {
        "key": m.key,
        "code": m.code,
        "name": m.name,
        "handling_type": m.handling_type,
        "committed_limit": str(m.committed_limit),
        "legal_limit": str(m.legal_limit) if m.legal_limit_statutory else "none",
        "lead_section": m.lead_section,
        "result_name": m.result_name,
        "online": online,
        "internal": m.internal,
        "materials": [{"code": x.code, "name": x.name, "required": x.required} for x in m.materials],
    }


ONLINE_FORMS = {"2", "3"}  # 办理形式 codes (catalogue ``handling_forms``) of applying online, as in the hall


def is_online(m: Matter) -> bool:
    return not m.internal and bool(ONLINE_FORMS & {str(f) for f in m.extra.get("handling_forms") or []})


@bp.get("/matters")
def matters() -> Response:
    """The deployed matters (latest versions): applicants see those that can be applied for online."""
    caller_matters = get_engine().repository.matters()
    shown = [m for m in caller_matters if _sees_all() or is_online(m)]
    return jsonify({"items": [matter_dict(m, online=is_online(m)) for m in shown]})


def _sees_all() -> bool:
    """Systems see every matter; an applicant only those applied for online."""
    return g.get("api_caller") is not None


@bp.get("/matters/<matter_key>")
def matter(matter_key: str) -> Response:
    """One matter with the JSON Schema of its application form."""
    found, forms = get_engine().repository.matter(matter_key)
    if not (_sees_all() or is_online(found)):
        raise ApiProblem("not_found", f"未找到可网上申报的事项 {matter_key}。")
    out = matter_dict(found, online=is_online(found))
    out["application_schema"] = forms.get(found.application_form or "") or {"type": "object"}
    return jsonify(out)


@bp.get("/cases")
def cases() -> Response:
    user = staff("cases:read")
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in CaseStatus}:
        known = ", ".join(s.value for s in CaseStatus)
        message = f"应为 {known} 之一"
        raise ApiProblem(
            "validation_failed", f"查询参数 status {message}。", errors=[{"field": "status", "message": message}]
        )
    page = get_engine().cases.page_for(
        user,
        search=request.args.get("q", "")[:100],
        matter=request.args.get("matter") or None,
        status=status,
        page=int_arg("page", 1, low=1, high=MAX_PAGE),
        per_page=int_arg("per_page", 20, low=1, high=MAX_PER_PAGE),
    )
    return jsonify(paged(page))


@bp.get("/cases/<case_no>")
def case(case_no: str) -> Response:
    user = staff("cases:read")
    engine = get_engine()
    engine.cases.check_access(user, case_no)  # another section's case: 404 like an unknown one
    # ID and mobile numbers masked beyond the window that took them and the lead section (DECISIONS.md)
    return jsonify(engine.privacy.case_view(user, engine.cases.show(case_no)).to_dict())


@bp.get("/tasks")
def tasks() -> Response:
    user = staff("tasks:read")
    filters = WorklistFilter(
        matter=request.args.get("matter") or None,
        section=request.args.get("section") or None,
        mine=flag_arg("mine"),
        unclaimed=flag_arg("unclaimed"),
        search=request.args.get("q", "")[:100],
    )
    page = get_engine().tasks.worklist(
        user,
        filters,
        page=int_arg("page", 1, low=1, high=MAX_PAGE),
        per_page=int_arg("per_page", 20, low=1, high=MAX_PER_PAGE),
    )
    return jsonify(paged(page))


@bp.get("/tasks/<task_id>")
def task(task_id: str) -> Response:
    """A task of the user's sections with the JSON Schema its completion data must pass."""
    user = staff("tasks:read")
    engine = get_engine()
    view = engine.tasks.get_for(user, task_id)
    return jsonify({**view.to_dict(), "form_schema": engine.tasks.form_schema(view.id)})


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> Response:
    user = staff("tasks:write")
    engine = get_engine()
    engine.tasks.get_for(user, task_id)  # another section's task: 404, as in the worklist
    return jsonify(engine.tasks.claim(task_id, user=user.username).to_dict())


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str) -> Response:
    """Give a task the user claimed back to the section (待认领)."""
    user = staff("tasks:write")
    engine = get_engine()
    engine.tasks.get_for(user, task_id)
    return jsonify(engine.tasks.unclaim(task_id, user=user.username).to_dict())


@bp.post("/tasks/<task_id>/complete")
def complete(task_id: str) -> Response:
    """Complete with ``{"data": {…}}``, checked against the task's form; the case runs on to its next step."""
    user = staff("tasks:write")
    engine = get_engine()
    engine.tasks.get_for(user, task_id)
    body = json_body()
    data = body.get("data", {})
    if not isinstance(data, dict):
        message = "应为 JSON 对象"
        raise ApiProblem("validation_failed", f"data {message}。", errors=[{"field": "data", "message": message}])
    done = engine.tasks.complete(task_id, user=user.username, data=data)
    summary = engine.cases.show(done.case_no).summary
    return jsonify({"task": done.to_dict(), "case": summary.to_dict()})
