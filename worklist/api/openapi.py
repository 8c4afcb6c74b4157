"""The OpenAPI 3.1 document of /api/v1/, served at /api/v1/openapi.json without sign-in.

Written here, beside the views, as data: the tests validate the document itself and every request and
response they make against it (openapi-core), so an endpoint that takes or answers something the
document does not say fails a test.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from onewindow.engine import API_SCOPES, CaseStatus

from . import bp
from .problems import CODES, PROBLEM_TYPE

__all__ = ["document"]

JSON = "application/json"
PROBLEM = "application/problem+json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **more: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **more}


WHEN = {"type": "string", "format": "date-time"}
WHEN_OR_NULL = _nullable("string", format="date-time")
TEXT_OR_NULL = _nullable("string")


def _object(properties: dict[str, Any], *, required: list[str] | None = None, **more: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties), **more}


SCHEMAS: dict[str, Any] = {
    "Problem": _object(
        {
            "type": {"type": "string", "description": f"{PROBLEM_TYPE}<code>"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string", "description": "一句中文说明(给人看,措辞可能调整)"},
            "code": {"type": "string", "enum": sorted(CODES), "description": "stable: act on this, not on the text"},
            "errors": {
                "type": "array",
                "description": "field errors (validation_failed, file_rejected, bad_request)",
                "items": _object({"field": {"type": "string"}, "message": {"type": "string"}}),
            },
            "scope": {"type": "string", "description": "the scope that was missing (scope_missing)"},
            "state": {"type": "string", "description": "what the task or case is now (conflict)"},
            "incident": {"type": "integer", "description": "the incident recorded (workflow_failed)"},
            "reason": {"type": "string", "description": "why a file was refused (file_rejected)"},
        },
        required=["type", "title", "status", "detail", "code"],
    ),
    "Material": _object({"code": {"type": "string"}, "name": {"type": "string"}, "required": {"type": "boolean"}}),
    "Matter": _object(
        {
            "key": {"type": "string"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "handling_type": {"type": "string"},
            "committed_limit": {"type": "string", "examples": ["7 working_days"]},
            "legal_limit": {"type": "string"},
            "lead_section": {"type": "string"},
            "result_name": {"type": "string"},
            "online": {"type": "boolean", "description": "can be applied for online (网上办理 / 移动端)"},
            "internal": {"type": "boolean", "description": "the bureau's own follow-up work, not applied for"},
            "materials": {"type": "array", "items": _ref("Material")},
        }
    ),
    "MatterDetail": {
        "allOf": [
            _ref("Matter"),
            _object({"application_schema": {"type": "object", "description": "JSON Schema of the application"}}),
        ]
    },
    "MatterList": _object({"items": {"type": "array", "items": _ref("Matter")}}),
    "CaseSummary": _object(
        {
            "case_no": {"type": "string", "examples": ["WH-2026-000001"]},
            "matter": {"type": "string"},
            "matter_name": {"type": "string"},
            "version": {"type": "integer"},
            "status": {"type": "string", "enum": [s.value for s in CaseStatus]},
            "status_label": {"type": "string"},
            "applicant_name": {"type": "string"},
            "created_at": WHEN,
            "accepted_at": WHEN_OR_NULL,
            "committed_due_at": WHEN_OR_NULL,
            "legal_due_at": WHEN_OR_NULL,
            "finished_at": WHEN_OR_NULL,
            "paused_at": WHEN_OR_NULL,
            "channel": {"type": "string", "enum": ["window", "online", "agent", "api"]},
            "channel_label": {"type": "string"},
            "origin_case_no": TEXT_OR_NULL,
            "point": {"type": "string", "description": "受理网点: the service point (bureau.toml [[points]] code)"},
        }
    ),
    "Task": _object(
        {
            "id": {"type": "string"},
            "case_no": {"type": "string"},
            "name": {"type": "string"},
            "bpmn_id": {"type": "string"},
            "lane": TEXT_OR_NULL,
            "section": TEXT_OR_NULL,
            "form": TEXT_OR_NULL,
            "state": {"type": "string", "enum": ["ready", "completed", "cancelled"]},
            "claimed_by": TEXT_OR_NULL,
            "created_at": WHEN,
            "due_at": WHEN_OR_NULL,
            "completed_at": WHEN_OR_NULL,
            "completed_by": TEXT_OR_NULL,
            "matter": {"type": "string"},
            "applicant": {"type": "string"},
            "case_due_at": WHEN_OR_NULL,
            "case_paused": {"type": "boolean"},
            "channel": {"type": "string"},
            "point": {"type": "string", "description": "the service point that received the case"},
        }
    ),
    "TaskDetail": {
        "allOf": [
            _ref("Task"),
            _object({"form_schema": _nullable("object", description="JSON Schema of the completion data")}),
        ]
    },
    "CaseDetail": {
        "allOf": [
            _ref("CaseSummary"),
            _object(
                {
                    "query_code": {"type": "string", "description": "查询码 of the applicant's tracking"},
                    "applicant": {"type": "object", "description": "the application's data"},
                    "open_tasks": {"type": "array", "items": _ref("Task")},
                    "history": {"type": "array", "items": {"type": "object"}},
                    "incidents": {"type": "array", "items": {"type": "object"}},
                    "followups": {"type": "array", "items": _ref("CaseSummary")},
                }
            ),
        ]
    },
    "CasePage": _object(
        {
            "items": {"type": "array", "items": _ref("CaseSummary")},
            "total": {"type": "integer"},
            "total_is_lower_bound": {"type": "boolean"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
        }
    ),
    "TaskPage": _object(
        {
            "items": {"type": "array", "items": _ref("Task")},
            "total": {"type": "integer"},
            "total_is_lower_bound": {"type": "boolean", "description": "counting stopped at 1000"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
        }
    ),
    "Completion": _object(
        {"data": {"type": "object", "description": "the task form's data (GET /tasks/{task_id}: form_schema)"}},
        required=[],
    ),
    "Completed": _object({"task": _ref("Task"), "case": _ref("CaseSummary")}),
    "FeedbackReport": _object(
        {
            "case_no": {"type": "string", "minLength": 1, "description": "the case whose result was shared"},
            "flaw": {"type": "string", "minLength": 1, "maxLength": 2000, "description": "瑕疵说明"},
        }
    ),
    "Feedback": _object(
        {
            "id": {"type": "integer"},
            "department": {"type": "string"},
            "case_no": {"type": "string"},
            "correction_case_no": {"type": "string"},
            "correction_status": {"type": "string"},
            "flaw": {"type": "string"},
            "channel": {"type": "string", "enum": ["inbox", "api"]},
            "reported_by": {"type": "string"},
            "created_at": WHEN,
            "created": {"type": "boolean", "description": "false: the answer to a repeated Idempotency-Key"},
        }
    ),
    "SignIn": _object(
        {
            "login": {"type": "string", "description": "mobile number or ID number (手机号或身份证号)"},
            "password": {"type": "string"},
        }
    ),
    "Applicant": _object(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["applicant", "agent"]},
            "name": {"type": "string"},
            "id_number": {"type": "string"},
            "mobile": {"type": "string"},
            "created_at": WHEN,
            "disabled": {"type": "boolean"},
        }
    ),
    "Token": _object(
        {
            "access_token": {"type": "string", "description": "send as Authorization: Bearer <access_token>"},
            "token_type": {"type": "string", "const": "Bearer"},
            "expires_at": WHEN,
            "applicant": _ref("Applicant"),
        }
    ),
    "DraftFile": _object(
        {
            "id": {"type": "integer"},
            "material": {"type": "string"},
            "filename": {"type": "string"},
            "content_type": {"type": "string", "enum": ["application/pdf", "image/jpeg", "image/png"]},
            "size": {"type": "integer"},
            "uploaded_at": WHEN,
        }
    ),
    "Application": _object(
        {
            "id": {"type": "integer"},
            "owner_id": {"type": "integer"},
            "by_agent": {"type": "boolean"},
            "matter": {"type": "string"},
            "data": {"type": "object"},
            "status": {"type": "string", "enum": ["draft", "submitted"]},
            "case_no": TEXT_OR_NULL,
            "files": {"type": "array", "items": _ref("DraftFile")},
            "created_at": WHEN,
            "updated_at": WHEN,
            "submitted_at": WHEN_OR_NULL,
        }
    ),
    "ApplicationList": _object({"items": {"type": "array", "items": _ref("Application")}}),
    "NewApplication": _object({"matter": {"type": "string", "description": "a matter's key (online ones)"}}),
    "Draft": _object({"data": {"type": "object", "description": "the application's data so far"}}),
    "Upload": _object(
        {
            "material": {"type": "string", "description": "the material's code (M01 …; POA: 委托书)"},
            "file": {"type": "string", "contentMediaType": "application/octet-stream"},
        }
    ),
    "CaseList": _object({"items": {"type": "array", "items": _ref("CaseSummary")}}),
    "Message": _object(
        {
            "id": {"type": "integer"},
            "case_no": {"type": "string"},
            "kind": {
                "type": "string",
                "description": "accepted, supplement, refused_acceptance, approved, refusal_decided, issued, rejected,"
                " terminated, withdrawn, notice",
            },
            "title": {"type": "string", "description": "the heading, in Chinese"},
            "text": {"type": "string", "description": "what the applicant was told (the SMS's words), in Chinese"},
            "created_at": WHEN,
            "read_at": WHEN_OR_NULL,
            "unread": {"type": "boolean"},
            "sms": {
                "type": "string",
                "enum": ["queued", "opted_out", "no_gateway", "no_mobile"],
                "description": "queued: sent by SMS too; opted_out: the account turned SMS off",
            },
            "own_case": {"type": "boolean", "description": "applied for online by this account (GET /me/cases)"},
            "query_code": {**TEXT_OR_NULL, "description": "the case's 查询码 (GET /track)"},
        }
    ),
    "MessageList": _object(
        {"items": {"type": "array", "items": _ref("Message")}, "unread": {"type": "integer", "minimum": 0}}
    ),
    "RatingRequest": _object(
        {
            "level": {"type": "integer", "minimum": 1, "maximum": 5, "description": "5 非常满意 … 1 非常不满意"},
            "comment": {"type": "string", "maxLength": 500},
        },
        required=["level"],
    ),
    "Rating": _object(
        {
            "case_no": {"type": "string"},
            "level": {"type": "integer"},
            "label": {"type": "string"},
            "comment": {"type": "string"},
            "channel": {"type": "string"},
            "section": {"type": "string"},
            "clerk": {"type": "string"},
            "rated_at": WHEN,
            "applicant_id": _nullable("integer"),
            "followup_case_no": TEXT_OR_NULL,
            "followup_status": TEXT_OR_NULL,
            "reply": TEXT_OR_NULL,
            "replied_at": WHEN_OR_NULL,
        }
    ),
    "Progress": _object(
        {
            "case_no": {"type": "string"},
            "matter_name": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in CaseStatus]},
            "status_label": {"type": "string"},
            "status_words": {"type": "string", "description": "the status in plain words"},
            "steps": {
                "type": "array",
                "items": _object({"section": {"type": "string"}, "name": {"type": "string"}}),
            },
            "created_at": WHEN,
            "accepted_at": WHEN_OR_NULL,
            "committed_due_at": WHEN_OR_NULL,
            "finished_at": WHEN_OR_NULL,
            "paused": {"type": "boolean"},
        }
    ),
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}


RESPONSES: dict[str, Any] = {
    "Problem": _problem("an error (see its code)"),
    "Unauthorized": _problem("token_missing or token_invalid"),
    "Forbidden": _problem("scope_missing, forbidden"),
    "NotFound": _problem("not_found"),
    "Conflict": _problem("conflict: the task was claimed or completed meanwhile"),
    "Unprocessable": _problem("validation_failed (field errors), workflow_failed"),
}


def _errors(*names: str) -> dict[str, Any]:
    codes = {"Unauthorized": "401", "Forbidden": "403", "NotFound": "404", "Conflict": "409", "Unprocessable": "422"}
    out = {codes[n]: {"$ref": f"#/components/responses/{n}"} for n in names}
    out["default"] = {"$ref": "#/components/responses/Problem"}
    return out


def _ok(schema: str, description: str = "OK", status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": _ref(schema)}}}}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


PAGING = [
    _query("page", "page number, from 1", {"type": "integer", "minimum": 1, "maximum": 1_000_000}),
    _query("per_page", "rows per page", {"type": "integer", "minimum": 1, "maximum": 100}),
]


def _op(summary: str, scope: str | None, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    op = {"summary": summary, "responses": responses, **more}
    if scope == "applicant":
        op["description"] = (op.get("description", "") + "\n\nAn applicant's token (POST /auth/token).").strip()
    elif scope is not None:
        op["security"] = [{"bearer": [scope]}]
        op["description"] = (op.get("description", "") + f"\n\nScope: `{scope}`.").strip()
    return op


def _paths() -> dict[str, Any]:
    return {
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {"type": "object"}}}}},
            }
        },
        "/matters": {
            "get": _op(
                "Deployed matters (an applicant's token: those applied for online)",
                None,
                {**_ok("MatterList"), **_errors("Unauthorized")},
            )
        },
        "/matters/{matter_key}": {
            "parameters": [_path("matter_key")],
            "get": _op(
                "One matter with the JSON Schema of its application",
                None,
                {**_ok("MatterDetail"), **_errors("Unauthorized", "NotFound")},
            ),
        },
        "/cases": {
            "get": _op(
                "Cases the key's user may open, newest first",
                "cases:read",
                {**_ok("CasePage"), **_errors("Unauthorized", "Forbidden", "Unprocessable")},
                parameters=[
                    _query("q", "case number or applicant's name contains"),
                    _query("matter", "matter key"),
                    _query("status", "case status", {"type": "string", "enum": [s.value for s in CaseStatus]}),
                    *PAGING,
                ],
            )
        },
        "/cases/{case_no}": {
            "parameters": [_path("case_no")],
            "get": _op(
                "A case: status, application, open tasks, history",
                "cases:read",
                {**_ok("CaseDetail"), **_errors("Unauthorized", "Forbidden", "NotFound")},
                description="Another section's case is 404, as in the worklist.",
            ),
        },
        "/tasks": {
            "get": _op(
                "The key's user's worklist: READY tasks of his sections (of a window section: the cases received at"
                " his service point), most urgent first",
                "tasks:read",
                {**_ok("TaskPage"), **_errors("Unauthorized", "Forbidden", "Unprocessable")},
                parameters=[
                    _query("matter", "matter key"),
                    _query("section", "one of the user's sections"),
                    _query("mine", "claimed by the key's user", {"type": "boolean"}),
                    _query("unclaimed", "claimed by nobody", {"type": "boolean"}),
                    _query("q", "case number or applicant's name contains"),
                    *PAGING,
                ],
            )
        },
        "/tasks/{task_id}": {
            "parameters": [_path("task_id")],
            "get": _op(
                "A task with the JSON Schema of its completion data",
                "tasks:read",
                {**_ok("TaskDetail"), **_errors("Unauthorized", "Forbidden", "NotFound")},
            ),
        },
        "/tasks/{task_id}/claim": {
            "parameters": [_path("task_id")],
            "post": _op(
                "Claim a task as the key's user",
                "tasks:write",
                {**_ok("Task"), **_errors("Unauthorized", "Forbidden", "NotFound", "Conflict")},
            ),
        },
        "/tasks/{task_id}/unclaim": {
            "parameters": [_path("task_id")],
            "post": _op(
                "Give a task the key's user claimed back to its section",
                "tasks:write",
                {**_ok("Task"), **_errors("Unauthorized", "Forbidden", "NotFound", "Conflict")},
            ),
        },
        "/tasks/{task_id}/complete": {
            "parameters": [_path("task_id")],
            "post": _op(
                "Complete a task with its form's data; the case runs on",
                "tasks:write",
                {**_ok("Completed"), **_errors("Unauthorized", "Forbidden", "NotFound", "Conflict", "Unprocessable")},
                requestBody={"required": True, "content": {JSON: {"schema": _ref("Completion")}}},
            ),
        },
        "/auth/token": {
            "post": {
                "summary": "An applicant's (or agent's) token: sign in with mobile or ID number and password",
                "security": [],
                "requestBody": {"required": True, "content": {JSON: {"schema": _ref("SignIn")}}},
                "responses": {
                    **_ok("Token", "signed in", "201"),
                    "401": _problem("sign_in_failed: wrong login or password (alike for unknown logins)"),
                    "429": _problem("rate_limited: too many failures; Retry-After"),
                    **_errors("Unprocessable"),
                },
            },
            "delete": _op(
                "Sign out: the token sent ends",
                "applicant",
                {"204": {"description": "ended"}, **_errors("Unauthorized", "Forbidden")},
            ),
        },
        "/applications": {
            "get": _op(
                "The account's applications, newest first",
                "applicant",
                {**_ok("ApplicationList"), **_errors("Unauthorized", "Forbidden")},
            ),
            "post": _op(
                "A new draft of a matter applied for online",
                "applicant",
                {**_ok("Application", "the draft", "201"), **_errors("Unauthorized", "Forbidden", "Unprocessable")},
                requestBody={"required": True, "content": {JSON: {"schema": _ref("NewApplication")}}},
            ),
        },
        "/applications/{application_id}": {
            "parameters": [_path("application_id", {"type": "integer"})],
            "get": _op(
                "One of the account's applications (another's is 404)",
                "applicant",
                {**_ok("Application"), **_errors("Unauthorized", "Forbidden", "NotFound")},
            ),
            "put": _op(
                "Keep the application's data so far",
                "applicant",
                {**_ok("Application"), **_errors("Unauthorized", "Forbidden", "NotFound", "Conflict", "Unprocessable")},
                requestBody={"required": True, "content": {JSON: {"schema": _ref("Draft")}}},
            ),
        },
        "/applications/{application_id}/files": {
            "parameters": [_path("application_id", {"type": "integer"})],
            "post": _op(
                "Upload a material's files (PDF, JPEG, PNG, checked by their bytes)",
                "applicant",
                {
                    **_ok("Application", "the draft with its files", "201"),
                    **_errors("Unauthorized", "Forbidden", "NotFound", "Conflict", "Unprocessable"),
                },
                requestBody={"required": True, "content": {"multipart/form-data": {"schema": _ref("Upload")}}},
            ),
        },
        "/applications/{application_id}/submit": {
            "parameters": [_path("application_id", {"type": "integer"})],
            "post": _op(
                "Register the case once (channel api); the same case when sent again",
                "applicant",
                {
                    **_ok("CaseSummary", "the case registered", "201"),
                    **_ok("CaseSummary", "submitted before: the same case"),
                    **_errors("Unauthorized", "Forbidden", "NotFound", "Unprocessable"),
                },
            ),
        },
        "/me/cases": {
            "get": _op(
                "The account's cases, newest first",
                "applicant",
                {**_ok("CaseList"), **_errors("Unauthorized", "Forbidden")},
            )
        },
        "/me/messages": {
            "get": _op(
                "The account's messages (受理, 补正, 办结 …), newest first, and how many are unread",
                "applicant",
                {**_ok("MessageList"), **_errors("Unauthorized", "Forbidden")},
            )
        },
        "/me/messages/{message_id}/read": {
            "parameters": [_path("message_id", {"type": "integer"})],
            "post": _op(
                "Mark one of the account's messages read (another account's is 404)",
                "applicant",
                {**_ok("Message"), **_errors("Unauthorized", "Forbidden", "NotFound")},
            ),
        },
        "/cases/{case_no}/rating": {
            "parameters": [_path("case_no")],
            "post": _op(
                "好差评 of one's own ended case, once",
                "applicant",
                {
                    **_ok("Rating", "rated", "201"),
                    **_errors("Unauthorized", "Unprocessable"),
                    "403": _problem("not_your_case (an unknown case alike), scope_missing"),
                    "409": _problem("conflict: rated already (state rated), or not ended yet"),
                },
                requestBody={"required": True, "content": {JSON: {"schema": _ref("RatingRequest")}}},
            ),
        },
        "/track": {
            "get": {
                "summary": "办件查询 by case number and query code, no token",
                "security": [],
                "parameters": [
                    {"name": "case_no", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "query_code", "in": "query", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    **_ok("Progress"),
                    "404": _problem("not_found: a wrong code and an unknown case alike"),
                    "429": _problem("rate_limited: too many failed lookups"),
                    "default": {"$ref": "#/components/responses/Problem"},
                },
            }
        },
        "/supervision/feedback": {
            "post": _op(
                "监管发现审批瑕疵: report a flaw in a result shared with the key's department",
                "supervision:feedback",
                {
                    **_ok("Feedback", "the correction case opened", "201"),
                    **_ok("Feedback", "the same Idempotency-Key again: the correction case opened before"),
                    **_errors("Unauthorized", "Forbidden", "Unprocessable"),
                    "404": _problem("case_not_shared: unknown case, or its result was not shared with the department"),
                    "409": _problem("idempotency_key_reused: the key was used for another report"),
                },
                parameters=[
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": True,
                        "description": "one per report; repeat it on a retry",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                    }
                ],
                requestBody={"required": True, "content": {JSON: {"schema": _ref("FeedbackReport")}}},
            )
        },
    }


@functools.cache
def _built() -> dict[str, Any]:
    scopes = "\n".join(f"- `{name}`: {text}" for name, text in API_SCOPES.items())
    codes = "\n".join(f"- `{code}` ({status}): {title}" for code, (status, title) in CODES.items())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "onewindow API",
            "version": "1.0.0",
            "description": (
                "JSON API of the Administrative Approval Bureau's one-window system (一窗受理).\n\n"
                "Send `Authorization: Bearer <token>`: a system's API key (`onewindow apikeys add`) or an "
                "applicant's token. Errors are `application/problem+json` (RFC 9457) with a stable `code`.\n\n"
                f"Scopes of API keys:\n{scopes}\n\nProblem codes:\n{codes}"
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": RESPONSES,
        },
    }


def document() -> dict[str, Any]:
    """A copy of the document (callers may change theirs)."""
    return copy.deepcopy(_built())


@bp.get("/openapi.json")
def openapi() -> Response:
    response = jsonify(_built())
    response.headers["Access-Control-Allow-Origin"] = "*"  # public, no credentials: doc viewers may fetch it
    return response
