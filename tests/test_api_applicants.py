"""The JSON API for the apps (/api/v1/, applicants' side): a token from signing in, applying online with
uploads and one submission (channel api), one's own cases, tracking by query code without a token, and
好差评 once after the end. Every request and answer is checked against the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from onewindow.engine import Engine, FixedClock
from onewindow.worklist import create_app

from .api_support import ApiClient
from .file_samples import HTML_AS_PDF, pdf
from .hall_support import BOB_ID, register
from .helpers import ER_APPLICANT, PASSWORD, open_tasks

ER = "enterprise_registration"  # applied for online (handling_forms 2); the filing is not
ER_MATERIALS = ["M01", "M02", "M03", "M04", "M05"]


def sign_in(api: ApiClient, login: str = "13800138000") -> str:
    got = api.post("/auth/token", json_body={"login": login, "password": PASSWORD}, expect=201).json
    assert got["token_type"] == "Bearer" and got["access_token"].startswith("owa_")
    token: str = got["access_token"]
    return token


def finish(engine: Engine, case_no: str) -> None:
    """The window accepts the registration and it runs to its licence."""
    review = {"name_checked": True, "address_checked": True, "scope_checked": True, "review_opinion": "符合"}
    for bpmn_id, user, data in (
        ("Task_Intake", "wangfang", {"materials_received": ER_MATERIALS}),
        ("Task_FormalReview", "sunli", review),
        ("Task_RegistrationDecision", "sunli", {"decision": "approve"}),
        ("Task_Seal", "sunli", {"seal_no": "510107-04"}),
        ("Task_IssueLicence", "wangfang", {"delivery": "window", "id_checked": True}),
    ):
        engine.tasks.complete(open_tasks(engine, case_no)[bpmn_id].id, user=user, data=data)


@pytest.fixture
def api(app: Flask) -> ApiClient:
    return ApiClient(app.test_client())


def test_an_applicant_applies_tracks_and_rates_through_the_api(app: Flask, api: ApiClient) -> None:
    engine: Engine = app.config["ENGINE"]
    alice = register(engine)
    token = sign_in(api)
    online = {m["key"] for m in api.get("/matters", token=token, expect=200).json["items"]}
    assert ER in online and "foreign_investment_filing" not in online  # applied for at the window only
    api.problem("post", "/applications", 422, "validation_failed", token=token,
                json_body={"matter": "foreign_investment_filing"})  # fmt: skip

    draft = api.post("/applications", token=token, json_body={"matter": ER}, expect=201).json
    path = f"/applications/{draft['id']}"
    api.put(path, token=token, json_body={"data": dict(ER_APPLICANT)}, expect=200)
    upload = api.post(f"{path}/files", token=token, form={"material": "M01", "file": ("申请书.pdf", pdf())}, expect=201)
    assert [(f["material"], f["content_type"]) for f in upload.json["files"]] == [("M01", "application/pdf")]
    html = api.problem("post", f"{path}/files", 422, "file_rejected", token=token,
                       form={"material": "M02", "file": ("章程.pdf", HTML_AS_PDF)})  # fmt: skip
    assert html["reason"] == "type"
    named = api.problem("post", f"{path}/files", 422, "file_rejected", token=token,
                        form={"material": "M02", "file": ("../../x.pdf", pdf())})  # fmt: skip
    assert named["reason"] == "name"
    assert len(api.get(path, token=token, expect=200).json["files"]) == 1  # nothing of the refused ones kept

    case = api.post(f"{path}/submit", token=token, expect=201).json
    assert case["channel"] == "api" and case["status"] == "received"
    again = api.post(f"{path}/submit", token=token, expect=200).json
    assert again["case_no"] == case["case_no"]  # a double submission: the same case
    api.problem("put", path, 409, "conflict", token=token, json_body={"data": {}})
    assert [c["case_no"] for c in api.get("/me/cases", token=token, expect=200).json["items"]] == [case["case_no"]]
    assert [a["status"] for a in api.get("/applications", token=token, expect=200).json["items"]] == ["submitted"]

    code = engine.cases.show(case["case_no"]).query_code
    tracked = api.get(f"/track?case_no={case['case_no']}&query_code={code.lower()}", expect=200).json
    assert tracked["status"] == "received" and tracked["steps"][0]["name"] == "接件与材料核验"
    assert "applicant" not in tracked and ER_APPLICANT["enterprise_name"] not in str(tracked)
    wrong = api.problem("get", f"/track?case_no={case['case_no']}&query_code=AAAA2222", 404, "not_found")
    unknown = api.problem("get", f"/track?case_no=WH-2026-999999&query_code={code}", 404, "not_found")
    assert wrong == unknown  # no hint whether the case number exists

    rating = f"/cases/{case['case_no']}/rating"
    early = api.problem("post", rating, 409, "conflict", token=token, json_body={"level": 5})
    assert early["detail"] == "办件办结后才能评价。"
    finish(engine, case["case_no"])
    rated = api.post(rating, token=token, json_body={"level": 4, "comment": "网上办理很方便"}, expect=201).json
    assert (rated["level"], rated["label"], rated["applicant_id"]) == (4, "满意", alice.id)
    assert api.problem("post", rating, 409, "conflict", token=token, json_body={"level": 1})["state"] == "rated"

    api.delete("/auth/token", token=token, expect=204)
    api.problem("get", "/me/cases", 401, "token_invalid", token=token)


def test_applicants_tokens_reach_only_their_own(app: Flask, api: ApiClient, clock: FixedClock) -> None:
    engine: Engine = app.config["ENGINE"]
    register(engine)
    register(engine, BOB_ID, "13900139000", name="李四")
    agent = register(engine, "510107198505120048", "13700137000", kind="agent", name="代办员")
    alice, bob = sign_in(api), sign_in(api, BOB_ID)
    draft = api.post("/applications", token=alice, json_body={"matter": ER}, expect=201).json
    api.put(f"/applications/{draft['id']}", token=alice, json_body={"data": dict(ER_APPLICANT)}, expect=200)
    case_no = api.post(f"/applications/{draft['id']}/submit", token=alice, expect=201).json["case_no"]

    # Another account's draft is unknown; another's case, and an unknown one, cannot be rated: nothing told.
    api.problem("get", f"/applications/{draft['id']}", 404, "not_found", token=bob)
    api.problem("put", f"/applications/{draft['id']}", 404, "not_found", token=bob, json_body={"data": {}})
    api.problem("post", f"/applications/{draft['id']}/submit", 404, "not_found", token=bob)
    theirs = api.problem("post", f"/cases/{case_no}/rating", 403, "not_your_case", token=bob, json_body={"level": 1})
    nobodys = api.problem("post", "/cases/WH-2026-999999/rating", 403, "not_your_case", token=bob,
                          json_body={"level": 1})  # fmt: skip
    assert theirs == nobodys
    assert api.get("/me/cases", token=bob, expect=200).json["items"] == []
    # An applicant's token opens no system endpoint, and a system's key no applicant's one.
    api.problem("get", "/tasks", 403, "scope_missing", token=alice)
    key = engine.api_keys.issue("crm", ["cases:read"], user="lijing", actor="t").token
    api.problem("get", "/me/cases", 403, "scope_missing", token=key)

    # An agent submits only with the applicant's letter of entrustment (委托书, POA).
    by_agent = sign_in(api, "13700137000")
    agents = api.post("/applications", token=by_agent, json_body={"matter": ER}, expect=201).json
    assert agents["by_agent"] is True and agent.is_agent
    api.put(f"/applications/{agents['id']}", token=by_agent, json_body={"data": dict(ER_APPLICANT)}, expect=200)
    refused = api.problem("post", f"/applications/{agents['id']}/submit", 422, "validation_failed", token=by_agent)
    assert [e["field"] for e in refused["errors"]] == ["files.POA"]
    letter = {"material": "POA", "file": ("委托书.pdf", pdf())}
    api.post(f"/applications/{agents['id']}/files", token=by_agent, form=letter, expect=201)
    assert api.post(f"/applications/{agents['id']}/submit", token=by_agent, expect=201).json["channel"] == "api"

    # Sign-in refusals are alike; tokens end with their time, and with a disabled account.
    wrong = api.problem(
        "post", "/auth/token", 401, "sign_in_failed", json_body={"login": "13800138000", "password": "x"}
    )
    unknown = api.problem("post", "/auth/token", 401, "sign_in_failed",
                          json_body={"login": "13600136000", "password": PASSWORD})  # fmt: skip
    assert wrong == unknown
    engine.applicants.set_disabled(engine.applicants.authenticate(BOB_ID, PASSWORD).id)
    api.problem("get", "/me/cases", 401, "token_invalid", token=bob)
    clock.advance(timedelta(days=7, seconds=1))
    api.problem("get", "/me/cases", 401, "token_invalid", token=alice)


def test_sign_in_and_lookups_are_throttled_like_the_halls(sqlite_engine: Engine) -> None:
    app = create_app(
        {"ENGINE": sqlite_engine, "TESTING": True, "SECRET_KEY": "t", "LOGIN_LIMIT_ACCOUNT": "2 per hour",
         "TRACK_LIMIT_CASE": "2 per hour"}
    )  # fmt: skip
    api = ApiClient(app.test_client())
    register(sqlite_engine)
    for _ in range(2):
        api.problem("post", "/auth/token", 401, "sign_in_failed", json_body={"login": "13800138000", "password": "x"})
    limited = api.problem(
        "post", "/auth/token", 429, "rate_limited", json_body={"login": "13800138000", "password": "x"}
    )
    assert limited["detail"] == "失败次数过多,请稍后再试。"
    for _ in range(2):
        api.problem("get", "/track?case_no=WH-2026-000001&query_code=AAAA2222", 404, "not_found")
    api.problem("get", "/track?case_no=WH-2026-000001&query_code=AAAA2222", 429, "rate_limited")
