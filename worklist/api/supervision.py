"""POST /api/v1/supervision/feedback: a supervising department's system reports a flaw it found in a
result it was sent (监管发现审批瑕疵), which opens a correction case for the lead section.

Idempotent by the ``Idempotency-Key`` header, as the bureau's own pushes are: the same key with the same
report answers with the correction case the first one opened (200), never a second one; the same key with
another report is 409. A case that does not exist and one whose result was not shared with the key's
department get the same 404, and nothing is opened.
"""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.wrappers import Response

from onewindow.engine import ConflictError, NotFoundError

from .. import get_engine
from . import bp
from .auth import caller, department_of, json_body
from .problems import ApiProblem

MAX_KEY = 100


@bp.post("/supervision/feedback")
def feedback() -> tuple[Response, int]:
    found = caller("supervision:feedback")
    department = department_of(found)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > MAX_KEY:
        raise ApiProblem(
            "idempotency_key_missing", f"请在请求头 Idempotency-Key 中提供 1 到 {MAX_KEY} 个字符的幂等键。"
        )
    body = json_body()
    case_no, flaw = body.get("case_no"), body.get("flaw")
    errors = []
    if not isinstance(case_no, str) or not case_no.strip():
        errors.append({"field": "case_no", "message": "应为办件编号"})
    if not isinstance(flaw, str) or not flaw.strip():
        errors.append({"field": "flaw", "message": "请写明瑕疵"})
    if errors:
        raise ApiProblem("validation_failed", "数据校验未通过:请提供办件编号和瑕疵说明。", errors=errors)
    assert isinstance(case_no, str) and isinstance(flaw, str)
    try:
        report = get_engine().feedback.report(
            department, case_no.strip(), flaw, key=key, actor=found.actor, channel="api"
        )
    except NotFoundError:
        raise ApiProblem(
            "case_not_shared", f"办件 {case_no.strip()[:40]} 不存在,或其审批结果未推送给本部门;未开启整改。"
        ) from None
    except ConflictError:
        raise ApiProblem("idempotency_key_reused", "该幂等键已用于另一份反馈;新的反馈请使用新的幂等键。") from None
    return jsonify(report.to_dict()), 201 if report.created else 200
