"""The public hall: the matters that can be applied for online with their guide, and 办件查询 by case
number and query code — the same answer for a wrong code and an unknown case, throttled."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from onewindow.engine import Engine
from onewindow.worklist import create_app

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, AuthActions, csrf, ids, post, text


def test_the_hall_answers_without_sign_in_and_lists_only_online_matters(client: FlaskClient) -> None:
    page = client.get("/hall/")
    assert page.status_code == 200
    html = text(page)
    assert ids(html.split('id="online-matters"')[1], "data-matter") == [
        "enterprise_registration",
        "individual_business_registration",
        "food_business_licence",
        "public_place_hygiene_licence",
    ]
    guide = client.get("/hall/matters/enterprise_registration")
    assert guide.status_code == 200
    assert 'id="hall-materials"' in text(guide) and "/guide/enterprise_registration" in text(guide)
    assert client.get(f"/hall/matters/{FI}").status_code == 404  # window only
    assert client.get("/hall/track").status_code == 200


def accepted_case(engine: Engine) -> tuple[str, str]:
    case_no = engine.cases.intake(FI, FI_APPLICANT, ALL_CHECK, actor="lijing").summary.case_no
    return case_no, engine.cases.show(case_no).query_code


ALL_CHECK = {"materials_received": ALL_FI_MATERIALS, "negative_list": False}


def test_track_by_case_number_and_query_code(any_app: Flask) -> None:
    client = any_app.test_client()
    case_no, code = accepted_case(any_app.config["ENGINE"])
    found = post(client, "/hall/track", {"case": case_no, "code": code.lower()})
    assert found.status_code == 200
    html = text(found)
    progress = html.split('id="progress"')[1]
    assert 'data-status="accepted"' in progress and "已受理,正在审查" in progress
    assert "商务审批科:主办科室审查" in progress  # the step in plain words
    assert "Task_" not in html and "Lane_" not in html  # no BPMN ids
    assert "2026年" in progress.split('id="track-due"')[1]  # the committed due date
    assert FI_APPLICANT["investor_name"] not in html and FI_APPLICANT["enterprise_name"] not in html
    by_link = client.get(f"/hall/track?case={case_no}&code={code}")  # the QR code's link
    assert by_link.status_code == 200 and 'id="progress"' in text(by_link)


def test_a_wrong_code_and_an_unknown_case_get_the_same_answer(any_app: Flask) -> None:
    client = any_app.test_client()
    case_no, code = accepted_case(any_app.config["ENGINE"])
    wrong = "A" * 8 if code != "A" * 8 else "B" * 8
    token = csrf(client)
    answers = [
        client.post("/hall/track", data={"case": case_no, "code": wrong, "csrf_token": token}),
        client.post("/hall/track", data={"case": "WH-2026-999999", "code": wrong, "csrf_token": token}),
    ]
    assert [a.status_code for a in answers] == [404, 404]
    token_field = re.compile(r'name="csrf_token" value="[^"]*"')  # signed with a timestamp
    bodies = [token_field.sub("", text(a)).replace(case_no, "#").replace("WH-2026-999999", "#") for a in answers]
    assert bodies[0] == bodies[1]
    assert "办件编号或查询码不正确" in bodies[0] and 'id="progress"' not in bodies[0]


def test_guessing_query_codes_is_throttled(engine: Engine) -> None:
    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "t", "TRACK_LIMIT_CASE": "3 per hour"})
    client = app.test_client()
    case_no, code = accepted_case(engine)
    token = csrf(client)
    statuses = [
        client.post("/hall/track", data={"case": case_no, "code": f"WRONG{i:03d}", "csrf_token": token}).status_code
        for i in range(4)
    ]
    assert statuses == [404, 404, 404, 429]
    blocked = client.post("/hall/track", data={"case": case_no, "code": code, "csrf_token": token})
    assert blocked.status_code == 429 and "查询失败次数过多" in text(blocked)


def test_the_receipt_and_the_notice_print_the_query_code(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    case_no, code = accepted_case(sqlite_engine)
    short = sqlite_engine.cases.intake(
        FI, FI_APPLICANT, {"materials_received": ["M01"], "negative_list": False}, actor="lijing"
    ).summary.case_no
    auth.login("lijing")
    receipt = text(client.get(f"/cases/{case_no}/receipt"))
    assert f'id="query-code" class="query-code">{code}<' in receipt and "/hall/track" in receipt
    notice = text(client.get(f"/cases/{short}/notice"))
    assert sqlite_engine.cases.show(short).query_code in notice and "/hall/track" in notice
