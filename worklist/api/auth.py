"""Who calls: the bearer token of a request under /api/v1/, checked before any view runs.

A missing token and a bad one (malformed, unknown, revoked, its user deactivated) are both 401, told
apart only by ``code`` (``token_missing`` / ``token_invalid``), never by why a token is bad. A valid token
without the scope an endpoint needs is 403 ``scope_missing``; what the key's user may not see is then
refused by the worklist's own rules (another section's task or case: 404, as in the worklist).
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, request

from onewindow.engine import ApiCaller, ApplicantView, UserAccount

from .. import get_engine
from . import bp
from .problems import ApiProblem

__all__ = ["PUBLIC", "applicant", "bearer_token", "caller", "department_of", "json_body", "staff"]

# Endpoints of the API that need no token.
PUBLIC = {"api.openapi", "api.sign_in", "api.track"}
APPLICANT_PREFIX = "owa_"


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()[:200]


@bp.before_request
def _authenticate() -> None:
    g.api_caller = None
    g.api_applicant = None
    if request.endpoint in PUBLIC:
        return
    token = _bearer()
    if token is None:
        raise ApiProblem("token_missing", "请在请求头 Authorization 中提供 Bearer 访问令牌。")
    engine = get_engine()
    if token.startswith(APPLICANT_PREFIX):  # an applicant's token from POST /auth/token
        g.api_applicant = engine.api_tokens.authenticate(token)
        if g.api_applicant is None:
            raise ApiProblem("token_invalid", "访问令牌无效、已吊销或已过期。")
        return
    found = engine.api_keys.authenticate(token)
    if found is None:
        raise ApiProblem("token_invalid", "访问令牌无效、已吊销或已过期。")
    g.api_caller = found
    if found.user is not None:
        g.user = found.user  # the request log names the user the key acts as


def bearer_token() -> str:
    return _bearer() or ""


def caller(scope: str) -> ApiCaller:
    """The system's key, if it carries ``scope``."""
    found: ApiCaller | None = g.get("api_caller")
    if found is None:
        raise ApiProblem("scope_missing", f"该接口供系统的 API 密钥({scope})使用,申请人的令牌不能访问。", scope=scope)
    if not found.allows(scope):
        raise ApiProblem("scope_missing", f"该访问令牌没有 {scope} 权限范围。", scope=scope)
    return found


def staff(scope: str) -> UserAccount:
    """The staff user the key acts as (the worklist's rules apply to it), if the key carries ``scope``."""
    found = caller(scope)
    if found.user is None:
        raise ApiProblem("scope_missing", f"该访问令牌不代表工作人员,不能使用 {scope}。", scope=scope)
    return found.user


def applicant() -> ApplicantView:
    """The signed-in applicant (or agent) of an applicant's token."""
    found: ApplicantView | None = g.get("api_applicant")
    if found is None:
        raise ApiProblem(
            "scope_missing", "该接口需要申请人登录后取得的令牌(POST /api/v1/auth/token)。", scope="applicant"
        )
    return found


def department_of(found: ApiCaller) -> str:
    if found.department is None:
        raise ApiProblem("scope_missing", "该访问令牌不代表监管部门。", scope="supervision:feedback")
    return found.department


def json_body() -> dict[str, Any]:
    """The request's JSON object; 415 for another content type, 400 for what is not a JSON object."""
    if not request.is_json:
        raise ApiProblem("unsupported_media_type", "请求体须为 JSON(Content-Type: application/json)。")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiProblem("invalid_json", "请求体须为一个 JSON 对象。")
    return data


@bp.after_request
def _private(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")  # answers are per caller: never kept by a proxy
    return response
