"""The applicant's pages of the hall with Flask's test client: registering (a wrong check digit, a second
account), signing in apart from the staff, a draft saved and finished later, a double submit, an agent
without the letter of entrustment, another applicant's case by URL, rating online and at the window's
terminal."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from onewindow.engine import Engine
from onewindow.worklist import create_app

from .file_samples import pdf
from .hall_support import ALICE_ID, BOB_ID, refuse_acceptance, register
from .helpers import ER_APPLICANT, FI_APPLICANT, PASSWORD, login, post, start_fi, text

ER = "enterprise_registration"
FORM = {f"applicant.{k}": str(v) for k, v in ER_APPLICANT.items()}


def hall_login(client: FlaskClient, login_name: str) -> None:
    response = post(client, "/hall/login", {"login": login_name, "password": PASSWORD})
    assert response.status_code == 302, text(response)


def test_registration_refuses_a_wrong_check_digit_and_a_second_account_then_signs_in(
    app: Flask, client: FlaskClient
) -> None:
    engine: Engine = app.config["ENGINE"]
    engine.applicants.scrypt_n = 2**4
    form: dict[str, Any] = {"kind": "applicant", "name": "王小明", "id_number": "110105194912310021",
                            "mobile": "13800138000", "password": PASSWORD, "password2": PASSWORD}  # fmt: skip
    refused = post(client, "/hall/register", form)
    assert refused.status_code == 400 and "身份证号校验位不正确" in text(refused)
    assert 'value="王小明"' in text(refused)  # what was typed stays
    created = post(client, "/hall/register", {**form, "id_number": ALICE_ID})
    assert created.status_code == 302 and created.location.endswith("/hall/me")
    assert "王小明" in text(client.get("/hall/me"))
    assert client.get("/").status_code == 302  # a hall session opens nothing of the worklist
    post(client, "/hall/logout")
    assert client.get("/hall/me").status_code == 302
    twice = post(client, "/hall/register", {**form, "id_number": ALICE_ID, "mobile": "13900139000"})
    assert twice.status_code == 400 and "该身份证号已注册" in text(twice)
    wrong = post(client, "/hall/login", {"login": "13800138000", "password": "wrong password"})
    unknown = post(client, "/hall/login", {"login": "13999999999", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert "手机号/身份证号或密码不正确" in text(wrong) and "手机号/身份证号或密码不正确" in text(unknown)
    hall_login(client, ALICE_ID)
    login(client, "lijing")  # the staff signs in on the same browser: the hall session stays
    assert client.get("/hall/me").status_code == 200


def test_a_draft_is_finished_later_submitted_once_and_another_applicants_case_is_unknown(any_app: Flask) -> None:
    engine: Engine = any_app.config["ENGINE"]
    client = any_app.test_client()
    alice = register(engine)
    register(engine, BOB_ID, "13900139000")
    hall_login(client, "13800138000")
    half = {k: v for k, v in FORM.items() if k in ("applicant.enterprise_name", "applicant.address")}
    saved = post(client, f"/hall/apply/{ER}", {**half, "action": "save", "file.M01": (io.BytesIO(pdf()), "申请书.pdf")},
                 content_type="multipart/form-data")  # fmt: skip
    assert saved.status_code == 302
    page = text(client.get(f"/hall/apply/{ER}"))  # come back later: the same draft
    assert "成都武侯小面餐饮有限公司" in page, page
    assert 'data-uploaded="1"' in page and "申请书.pdf" in page, page[page.find("apply-materials") :][:1500]
    [draft] = engine.applications.of(alice.id)
    incomplete = post(client, f"/hall/apply/{ER}", {**half, "draft": str(draft.id), "action": "submit"})
    assert incomplete.status_code == 400 and engine.applicants.cases_of(alice.id) == []
    done = {**FORM, "draft": str(draft.id), "action": "submit"}
    first = post(client, f"/hall/apply/{ER}", done)
    second = post(client, f"/hall/apply/{ER}", done)  # the same form sent again (a double click, a 2nd tab)
    assert first.status_code == second.status_code == 302 and first.location == second.location
    [case] = engine.applicants.cases_of(alice.id)
    assert first.location.endswith(f"/hall/cases/{case.case_no}")
    mine = text(client.get(f"/hall/cases/{case.case_no}"))
    assert "已收到申请" in mine and engine.cases.show(case.case_no).query_code in mine
    post(client, "/hall/logout")

    hall_login(client, BOB_ID)
    theirs = client.get(f"/hall/cases/{case.case_no}")
    missing = client.get("/hall/cases/WH-2026-999999")
    assert theirs.status_code == missing.status_code == 404
    assert "成都武侯小面餐饮有限公司" not in text(theirs) and engine.cases.show(case.case_no).query_code not in text(
        theirs
    )
    assert client.get(f"/hall/apply/{ER}?draft={draft.id}").status_code == 404
    assert post(client, f"/hall/cases/{case.case_no}/rate", {"level": "1"}).status_code == 404


def test_an_agent_without_the_letter_of_entrustment_is_refused_on_the_web(app: Flask, client: FlaskClient) -> None:
    engine: Engine = app.config["ENGINE"]
    agent = register(engine, BOB_ID, "13900139000", kind="agent")
    hall_login(client, "13900139000")
    assert 'data-material="POA"' in text(client.get(f"/hall/apply/{ER}"))
    refused = post(client, f"/hall/apply/{ER}", {**FORM, "action": "submit"})
    assert refused.status_code == 400 and "授权委托书" in text(refused)
    assert engine.applicants.cases_of(agent.id) == []
    [draft] = engine.applications.of(agent.id)
    assert draft.status == "draft" and draft.data["enterprise_name"] == ER_APPLICANT["enterprise_name"]


def test_rating_online_once_and_at_the_windows_terminal(any_app: Flask) -> None:
    engine: Engine = any_app.config["ENGINE"]
    client = any_app.test_client()
    alice = register(engine)
    draft = engine.applications.create(alice.id, "foreign_investment_filing")
    engine.applications.save(alice.id, draft.id, dict(FI_APPLICANT))
    case_no = engine.applications.submit(alice.id, draft.id, actor="hall").case_no
    hall_login(client, "13800138000")
    assert 'id="rating-form"' not in text(client.get(f"/hall/cases/{case_no}"))  # not ended yet
    early = post(client, f"/hall/cases/{case_no}/rate", {"level": "5"})
    assert early.status_code == 302 and engine.ratings.of_case(case_no) is None
    refuse_acceptance(engine, case_no)
    page = text(client.get(f"/hall/cases/{case_no}"))
    assert 'id="rating-form"' in page and "不予受理通知书" in page  # the notice to download
    post(client, f"/hall/cases/{case_no}/rate", {"level": "4", "comment": "讲解清楚"})
    again = post(client, f"/hall/cases/{case_no}/rate", {"level": "1"}, follow_redirects=True)
    assert "本办件已评价" in text(again)
    rating = engine.ratings.of_case(case_no)
    assert rating is not None and (rating.level, rating.channel) == (4, "online")

    window_case = start_fi(engine)
    refuse_acceptance(engine, window_case)
    login(client, "lijing")
    assert 'id="rating-terminal-link"' in text(client.get(f"/cases/{window_case}"))
    terminal = text(client.get(f"/cases/{window_case}/rating-terminal"))
    applicant = engine.cases.show(window_case).summary.applicant_name
    assert 'id="terminal-form"' in terminal and applicant and applicant not in terminal  # nothing of the case
    post(client, f"/cases/{window_case}/rating-terminal", {"level": "2", "comment": "排队太久"})
    rated = engine.ratings.of_case(window_case)
    assert rated is not None and (rated.level, rated.channel, rated.followup_case_no is not None) == (2, "window", True)
    assert 'id="terminal-thanks"' in text(client.get(f"/cases/{window_case}/rating-terminal"))


def test_failed_hall_sign_ins_are_throttled_per_login_with_a_message_in_chinese(engine: Engine) -> None:
    register(engine)
    config = {"ENGINE": engine, "TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
              "LOGIN_LIMIT_ACCOUNT": "3 per 10 minutes"}  # fmt: skip
    browser = create_app(config).test_client()

    def attempt(password: str, address: str) -> Any:
        data = {"login": "13800138000", "password": password}
        return browser.post("/hall/login", data=data, environ_base={"REMOTE_ADDR": address})

    statuses = [attempt(f"guess-{i}", f"192.0.2.{i}").status_code for i in range(4)]  # spread over addresses
    assert statuses == [401, 401, 401, 429]
    refused = attempt(PASSWORD, "192.0.2.99")
    assert refused.status_code == 429 and "登录失败次数过多" in text(refused) and refused.headers["Retry-After"]
    assert any(e.kind == "hall_sign_in_throttled" for e in engine.access.events())
