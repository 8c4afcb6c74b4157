"""The JSON API for systems (/api/v1/): API keys (engine and CLI), bearer authentication, scopes, the
worklist's rules applied to a key's user, problem+json errors, the supervising departments' feedback with
its Idempotency-Key, the OpenAPI document, and one run over real HTTP against `onewindow serve`.

Every call goes through ``ApiClient``, which checks each request and answer against the published OpenAPI
document."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import func, select

from onewindow.engine import Database, Engine, FixedClock, ValidationError
from onewindow.engine._store.models import CaseRow
from onewindow.worklist import create_app

from .api_support import ApiClient, answer, sent, validate
from .helpers import FI, FI_APPLICANT, T0, OnewindowRunner, login, open_tasks, start_fi
from .outbox_support import walk_to_result
from .test_serve import Server

STAFF_SCOPES = ["cases:read", "tasks:read", "tasks:write"]


def key(engine: Engine, *scopes: str, user: str | None = None, department: str | None = None) -> str:
    return engine.api_keys.issue("test system", scopes, user=user, department=department, actor="tester").token


def corrections(engine: Engine) -> int:
    with engine.db.reading() as session:
        return session.scalar(select(func.count()).where(CaseRow.matter_key == "supervision_correction")) or 0


@pytest.fixture
def api(client: FlaskClient) -> ApiClient:
    return ApiClient(client)


# -- keys ------------------------------------------------------------------------------------------------
def test_keys_authenticate_until_revoked_and_only_as_an_active_user(sqlite_engine: Engine, clock: FixedClock) -> None:
    issued = sqlite_engine.api_keys.issue("政务服务 app", ["tasks:read"], user="lijing", actor="huangqiang")
    assert issued.token.startswith(f"owk_{issued.key.key_id}_") and len(issued.token) == 4 + 12 + 1 + 43
    found = sqlite_engine.api_keys.authenticate(issued.token)
    assert found is not None and found.user is not None and found.user.username == "lijing"
    assert found.allows("tasks:read") and not found.allows("tasks:write")
    [listed] = sqlite_engine.api_keys.list()
    assert listed.last_used_at == T0 and issued.token not in json.dumps(listed.to_dict())
    wrong_secret = issued.token[:-4] + ("AAAA" if not issued.token.endswith("AAAA") else "BBBB")
    for bad in (wrong_secret, "owk_", "Bearer x", issued.token + "x", ""):
        assert sqlite_engine.api_keys.authenticate(bad) is None
    sqlite_engine.users.add("lijing", sections=["window"], role="clerk", active=False)
    assert sqlite_engine.api_keys.authenticate(issued.token) is None  # the key stops with its user
    sqlite_engine.users.add("lijing", sections=["window"], role="clerk")
    assert sqlite_engine.api_keys.authenticate(issued.token) is not None
    sqlite_engine.api_keys.revoke(str(issued.key.id), actor="huangqiang")
    assert sqlite_engine.api_keys.authenticate(issued.token) is None
    kinds = [e.kind for e in sqlite_engine.access.events()]
    assert kinds[0] == "api_key_revoked" and "api_key_issued" in kinds

    for scopes, owner, field in [
        (["tasks:delete"], {"user": "lijing"}, "scope"),
        (["tasks:read"], {}, "owner"),
        (["supervision:feedback"], {"department": "police"}, "department"),
        (["cases:read"], {"department": "commerce_bureau"}, "scope"),  # cases are read as a staff user
        (["supervision:feedback"], {"user": "lijing"}, "scope"),  # a clerk speaks for no department
    ]:
        with pytest.raises(ValidationError) as refused:
            sqlite_engine.api_keys.issue("x", scopes, actor="t", **owner)
        assert field in refused.value.by_field
    supervisor = sqlite_engine.api_keys.issue("inbox", ["supervision:feedback"], user="qianjun", actor="t")
    found = sqlite_engine.api_keys.authenticate(supervisor.token)
    assert found is not None and found.department == "commerce_bureau"  # the supervisor's own department


def test_apikeys_cli_prints_the_token_once(sqlite_engine: Engine, runner: OnewindowRunner) -> None:
    added = runner.run(
        "apikeys", "add", "审管系统", "--scope", "supervision:feedback", "--department", "commerce_bureau"
    )
    token = added.output.strip().splitlines()[-1]
    assert added.exit_code == 0 and token.startswith("owk_")
    assert sqlite_engine.api_keys.authenticate(token) is not None
    listed = json.loads(runner.run("apikeys", "list", "--json").output)
    assert [(k["name"], k["department"], k["scopes"], k["active"]) for k in listed] == [
        ("审管系统", "commerce_bureau", ["supervision:feedback"], True)
    ]
    assert token not in runner.run("apikeys", "list").output and token not in json.dumps(listed)
    assert runner.run("apikeys", "revoke", str(listed[0]["id"])).exit_code == 0
    assert sqlite_engine.api_keys.authenticate(token) is None
    assert runner.run("apikeys", "add", "x", "--scope", "tasks:read").exit_code == 2  # neither --user nor --department
    assert runner.run("apikeys", "add", "x", "--scope", "tasks:fly", "--user", "lijing").exit_code == 2
    unknown = runner.run("apikeys", "add", "x", "--scope", "tasks:read", "--user", "nobody")
    assert unknown.exit_code == 1 and "unknown user 'nobody'" in unknown.output
    assert runner.run("apikeys", "revoke", "999").exit_code == 1


# -- systems ---------------------------------------------------------------------------------------------
def test_a_clerks_key_works_the_clerks_worklist(app: Flask, api: ApiClient) -> None:
    engine: Engine = app.config["ENGINE"]
    window = key(engine, *STAFF_SCOPES, user="lijing")
    case_no = start_fi(engine)
    other = start_fi(engine, enterprise_name="成都蜀锦贸易有限公司")

    matters = api.get("/matters", token=window, expect=200).json["items"]
    assert FI in {m["key"] for m in matters}
    detail = api.get(f"/matters/{FI}", token=window, expect=200).json
    assert detail["application_schema"]["type"] == "object" and detail["materials"][0]["code"] == "M01"

    page = api.get("/tasks?per_page=1&page=2", token=window, expect=200).json
    assert (page["total"], page["pages"], page["page"], len(page["items"])) == (2, 2, 2, 1)
    tasks = api.get("/tasks?q=蜀锦", token=window, expect=200).json["items"]
    assert [t["case_no"] for t in tasks] == [other]
    intake = open_tasks(engine, case_no)["Task_Intake"]
    shown = api.get(f"/tasks/{intake.id}", token=window, expect=200).json
    assert shown["form_schema"]["properties"]["materials_received"]["type"] == "array"

    claimed = api.post(f"/tasks/{intake.id}/claim", token=window, expect=200).json
    assert claimed["claimed_by"] == "lijing"
    assert api.post(f"/tasks/{intake.id}/unclaim", token=window, expect=200).json["claimed_by"] is None
    api.problem("post", f"/tasks/{intake.id}/unclaim", 409, "conflict", token=window)  # not claimed by him now
    api.post(f"/tasks/{intake.id}/claim", token=window, expect=200)
    assert [t["id"] for t in api.get("/tasks?mine=true", token=window, expect=200).json["items"]] == [intake.id]
    bad = api.problem(
        "post",
        f"/tasks/{intake.id}/complete",
        422,
        "validation_failed",
        token=window,
        json_body={"data": {"materials_received": ["M99"], "negative_list": "no"}},
    )
    assert {e["field"] for e in bad["errors"]} == {"materials_received.0", "negative_list"}
    assert open_tasks(engine, case_no)["Task_Intake"].id == intake.id  # nothing done
    done = api.post(
        f"/tasks/{intake.id}/complete",
        token=window,
        json_body={"data": {"materials_received": ["M01", "M02", "M03", "M04", "M05", "M06"], "negative_list": False}},
        expect=200,
    ).json
    assert done["task"]["state"] == "completed" and done["case"]["status"] == "accepted"
    api.problem("post", f"/tasks/{intake.id}/complete", 409, "conflict", token=window, json_body={"data": {}})

    cases = api.get("/cases?status=accepted", token=window, expect=200).json
    assert [c["case_no"] for c in cases["items"]] == [case_no]
    assert api.get(f"/cases?matter={FI}&per_page=5", token=window, expect=200).json["total"] == 2
    case = api.get(f"/cases/{case_no}", token=window, expect=200).json
    assert case["applicant"]["enterprise_name"] == FI_APPLICANT["enterprise_name"] and case["channel"] == "window"
    assert {t["bpmn_id"] for t in case["open_tasks"]} >= {"Task_LeadReview"}


def test_refusals_are_problems_with_stable_codes(app: Flask, api: ApiClient, client: FlaskClient) -> None:
    engine: Engine = app.config["ENGINE"]
    case_no = start_fi(engine)
    intake = open_tasks(engine, case_no)["Task_Intake"]
    window = key(engine, *STAFF_SCOPES, user="lijing")
    reader = key(engine, "tasks:read", user="lijing")
    commerce = key(engine, *STAFF_SCOPES, user="zhangwei")  # the commerce chief: not the window's task
    department = key(engine, "supervision:feedback", department="commerce_bureau")
    revoked = engine.api_keys.issue("old", ["tasks:read"], user="lijing", actor="t")
    engine.api_keys.revoke(revoked.key.key_id, actor="t")

    missing = api.problem("get", "/tasks", 401, "token_missing", valid_request=False)
    assert missing["detail"].startswith("请在请求头")
    for token in ("not-a-key", revoked.token, window[:-1] + "A" if not window.endswith("A") else window[:-1] + "B"):
        api.problem("get", "/tasks", 401, "token_invalid", token=token)
    basic = api.problem(
        "get", "/tasks", 401, "token_missing", headers={"Authorization": "Basic bGlqaW5n"}, valid_request=False
    )
    assert basic["title"] == "需要访问令牌"
    assert client.get("/api/v1/tasks").headers["WWW-Authenticate"] == 'Bearer realm="onewindow"'
    assert (
        api.problem("post", f"/tasks/{intake.id}/claim", 403, "scope_missing", token=reader)["scope"] == "tasks:write"
    )
    api.problem("get", "/cases", 403, "scope_missing", token=reader)
    api.problem("get", "/tasks", 403, "scope_missing", token=department)
    # The worklist's rules: another section's task or case is as unknown as a missing one.
    api.problem("get", f"/tasks/{intake.id}", 404, "not_found", token=commerce)
    api.problem("post", f"/tasks/{intake.id}/claim", 404, "not_found", token=commerce)
    api.problem("get", f"/cases/{case_no}", 404, "not_found", token=commerce)
    unknown_case = api.problem("get", "/cases/WH-2026-999999", 404, "not_found", token=window)
    assert unknown_case["detail"] == "未找到办件“WH-2026-999999”。"
    assert open_tasks(engine, case_no)["Task_Intake"].claimed_by is None
    # Claimed by another clerk: a second window clerk may neither claim nor complete it.
    engine.users.add("wuxia", sections=["window"], role="clerk")
    other = key(engine, *STAFF_SCOPES, user="wuxia")
    api.post(f"/tasks/{intake.id}/claim", token=window, expect=200)
    api.problem("post", f"/tasks/{intake.id}/claim", 409, "conflict", token=other)
    api.problem("post", f"/tasks/{intake.id}/complete", 403, "forbidden", token=other, json_body={"data": {}})
    # Bad input at the edge: odd paging, a body that is not JSON, control characters, unknown paths.
    api.problem("get", "/cases?per_page=0", 422, "validation_failed", token=window, valid_request=False)
    api.problem("get", "/cases?status=lost", 422, "validation_failed", token=window, valid_request=False)
    api.problem(
        "post", f"/tasks/{intake.id}/complete", 415, "unsupported_media_type", token=window, raw=b"x=1",
        content_type="application/x-www-form-urlencoded", valid_request=False,
    )  # fmt: skip
    api.problem(
        "post", f"/tasks/{intake.id}/complete", 400, "invalid_json", token=window, raw=b"[1,",
        content_type="application/json", valid_request=False,
    )  # fmt: skip
    api.problem("get", "/tasks?q=%00", 400, "bad_request", token=window)
    unknown = client.get("/api/v1/nothing-here", headers={"Authorization": f"Bearer {window}"})
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    wrong_method = client.delete("/api/v1/tasks", headers={"Authorization": f"Bearer {window}"})
    assert wrong_method.status_code == 405 and wrong_method.get_json()["code"] == "method_not_allowed"
    # A signed-in browser's cookie opens nothing in the API (bearer only), and no CSRF token is asked for.
    login(client, "lijing")
    api.problem("get", "/tasks", 401, "token_missing", valid_request=False)
    assert open_tasks(engine, case_no)["Task_Intake"].claimed_by == "lijing"


# -- supervision -----------------------------------------------------------------------------------------
@pytest.fixture
def engine_app(engine: Engine) -> Iterator[ApiClient]:
    """The API on the parametrised engine (SQLite and PostgreSQL)."""
    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})
    yield ApiClient(app.test_client())


def test_feedback_opens_one_correction_case_per_idempotency_key(engine: Engine, engine_app: ApiClient) -> None:
    api = engine_app
    case_no = walk_to_result(engine)
    commerce = key(engine, "supervision:feedback", department="commerce_bureau")
    market = key(engine, "supervision:feedback", department="market_regulation")
    reader = key(engine, "cases:read", user="zhangwei")
    report = {"case_no": case_no, "flaw": "决定书未载明备案依据条款"}

    first = api.post(
        "/supervision/feedback", token=commerce, json_body=report, headers={"Idempotency-Key": "r-1"}, expect=201
    )
    correction = first.json["correction_case_no"]
    assert (first.json["case_no"], first.json["channel"], first.json["created"]) == (case_no, "api", True)
    again = api.post(
        "/supervision/feedback", token=commerce, json_body=report, headers={"Idempotency-Key": "r-1"}, expect=200
    )
    assert again.json["correction_case_no"] == correction and again.json["created"] is False
    assert corrections(engine) == 1
    view = engine.cases.show(correction)
    assert view.summary.origin_case_no == case_no and [t.section for t in view.open_tasks] == ["commerce"]

    other = {**report, "flaw": "另一个问题"}
    api.problem("post", "/supervision/feedback", 409, "idempotency_key_reused", token=commerce, json_body=other,
                headers={"Idempotency-Key": "r-1"})  # fmt: skip
    unknown = {**report, "case_no": "WH-2026-999999"}
    refused = api.problem("post", "/supervision/feedback", 404, "case_not_shared", token=commerce, json_body=unknown,
                          headers={"Idempotency-Key": "r-2"})  # fmt: skip
    shared_elsewhere = api.problem("post", "/supervision/feedback", 404, "case_not_shared", token=market,
                                   json_body=report, headers={"Idempotency-Key": "r-3"})  # fmt: skip
    assert refused["title"] == shared_elsewhere["title"]  # the same answer: no case number is confirmed
    api.problem("post", "/supervision/feedback", 400, "idempotency_key_missing", token=commerce, json_body=report,
                valid_request=False)  # fmt: skip
    empty = api.problem("post", "/supervision/feedback", 422, "validation_failed", token=commerce,
                        json_body={"case_no": case_no, "flaw": " "}, headers={"Idempotency-Key": "r-4"})  # fmt: skip
    assert [e["field"] for e in empty["errors"]] == ["flaw"]
    api.problem("post", "/supervision/feedback", 403, "scope_missing", token=reader, json_body=report,
                headers={"Idempotency-Key": "r-5"})  # fmt: skip
    assert corrections(engine) == 1
    assert [f.correction_case_no for f in engine.feedback.for_case(case_no)] == [correction]


# -- the document and real HTTP --------------------------------------------------------------------------
def test_the_openapi_document_is_public_valid_and_covers_every_route(app: Flask, api: ApiClient) -> None:
    got = api.get("/openapi.json", expect=200)
    validate_spec(got.json)
    assert got.json["openapi"] == "3.1.0"
    documented = {(path, method) for path, ops in got.json["paths"].items() for method in ops if method != "parameters"}
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert routes == documented


def test_the_api_over_real_http(served_db: str, tmp_path: Path) -> None:
    engine = Engine(Database(served_db), clock=FixedClock(T0))
    token = key(engine, *STAFF_SCOPES, user="lijing")
    case_no = start_fi(engine)
    engine.close()
    server = Server(served_db, tmp_path, "--workers", "1", "--threads", "2")
    try:
        with httpx.Client(base_url=server.base + "/api/v1", timeout=10) as http:
            for path, headers, status in [
                ("/openapi.json", {}, 200),
                ("/tasks", {"Authorization": f"Bearer {token}"}, 200),
                ("/tasks", {}, 401),
            ]:
                response = http.get(path, headers=headers)
                got = answer(response.status_code, response.headers, response.content)  # type: ignore[arg-type]
                validate(sent("get", str(response.request.url), headers, None, ""), got, valid_request=status != 401)
                assert got.status_code == status
            [task] = got_tasks = http.get("/tasks", headers={"Authorization": f"Bearer {token}"}).json()["items"]
            assert task["case_no"] == case_no and got_tasks[0]["bpmn_id"] == "Task_Intake"
            headers = {"Authorization": f"Bearer {token}"}
            claimed = http.post(f"/tasks/{task['id']}/claim", headers=headers)
            validate(
                sent("post", str(claimed.request.url), headers, None, ""),
                answer(claimed.status_code, claimed.headers, claimed.content),  # type: ignore[arg-type]
            )
            assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "lijing"
    finally:
        assert server.stop() == 0
