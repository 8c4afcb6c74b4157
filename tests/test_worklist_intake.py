"""统一受理 through the web: missing materials → one-time notice → supplement → acceptance receipt."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from onewindow.engine import CaseStatus, Engine

from .helpers import FI, FI_APPLICANT, AuthActions, ids, post, text

URL = f"/intake/{FI}"


def application(**changes: str) -> dict[str, object]:
    form: dict[str, object] = {f"applicant.{k}": str(v) for k, v in FI_APPLICANT.items()}
    form.update({f"applicant.{k}": v for k, v in changes.items()})
    return form


def test_intake_choose_and_form(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("lijing")
    chooser = text(client.get("/intake"))
    assert ids(chooser, "data-matter") == [
        "foreign_investment_filing",
        "enterprise_registration",
        "individual_business_registration",
        "food_business_licence",
        "public_place_hygiene_licence",
        "enterprise_investment_approval",
    ]
    page = text(client.get(URL))
    assert 'id="intake-form"' in page and 'name="applicant.enterprise_name"' in page
    assert '<select id="f-applicant-currency" name="applicant.currency"' in page  # six currencies: a select
    assert ids(page.split('id="materials-checklist"')[1].split("</table>")[0], "data-material") == [
        "M01",
        "M02",
        "M03",
        "M04",
        "M05",
        "M06",
    ]
    assert 'name="check.negative_list"' in page and 'name="check.materials_received"' in page
    registration = text(client.get("/intake/enterprise_registration"))
    assert "negative_list" not in registration and 'name="applicant.enterprise_type"' in registration


def test_only_the_window_registers(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    auth.login("zhangwei")
    assert 'data-nav="intake"' not in text(client.get("/"))
    assert client.get("/intake").status_code == 403
    assert client.get(URL).status_code == 403
    assert post(client, URL, application()).status_code == 403
    assert sqlite_engine.cases.page_for(sqlite_engine.users.get("huangqiang")).total == 0


def test_missing_materials_notice_supplement_receipt(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    auth.login("lijing")
    response = post(client, URL, {**application(), "check.materials_received": ["M01", "M02"]})
    assert response.status_code == 302
    case_no = "WH-2026-000001"
    assert response.location == f"/cases/{case_no}/notice"
    notice = text(client.get(response.location))
    assert "必备材料不全" in notice  # the flash
    missing = notice.split('id="missing-materials"')[1].split("</table>")[0]
    assert ids(missing, "data-material") == ["M03", "M04", "M06"]  # every missing required one, at once
    for name in (
        "外国投资者主体资格证明或自然人身份证明(经公证认证)",
        "法定代表人任职文件及身份证明",
        "外商投资企业设立备案申报承诺书",
    ):
        assert name in missing
    assert "授权委托书" not in missing  # not required
    # a 备案 cites the filing regime's own law, not the 行政许可法 as if it were a licence
    assert "商务部令2016年第3号" in notice and "行政许可法" not in notice and "成都锦江咨询有限公司" in notice
    assert sqlite_engine.cases.show(case_no).summary.status == CaseStatus.SUPPLEMENT
    assert client.get(f"/cases/{case_no}/receipt").status_code == 409  # not accepted yet

    supplement = re.search(r'href="/tasks/([^"]+)" class="primary-link"', notice)
    assert supplement is not None
    task_url = f"/tasks/{supplement.group(1)}"
    form = text(client.get(task_url))
    offered = re.findall(r'name="supplemented_materials" value="(M\d\d)"', form)
    assert offered == ["M03", "M04", "M06"]  # checkboxes of what is missing

    partial = post(client, task_url, {"supplemented_materials": ["M03"], "supplement_note": "补交一项"})
    assert partial.status_code == 302 and partial.location == f"/cases/{case_no}/notice"
    again = text(client.get(partial.location)).split('id="missing-materials"')[1].split("</table>")[0]
    assert ids(again, "data-material") == ["M04", "M06"]

    next_task = re.search(r'href="/tasks/([^"]+)" class="primary-link"', text(client.get(partial.location)))
    assert next_task is not None
    done = post(client, f"/tasks/{next_task.group(1)}", {"supplemented_materials": ["M04", "M06"]})
    assert done.status_code == 302 and done.location == f"/cases/{case_no}/receipt"
    receipt = text(client.get(done.location))
    summary = sqlite_engine.cases.show(case_no).summary
    assert summary.status == CaseStatus.ACCEPTED
    assert 'id="receipt-case-no">WH-2026-000001' in receipt
    assert "2026年03月11日" in receipt  # committed: 7 working days from Monday 2026-03-02
    assert "7个工作日" in receipt and "无统一法定时限" in receipt and "130个工作日" not in receipt
    assert "行政许可法" not in receipt and "商务部令2016年第3号" in receipt  # a 备案 cites its own law
    received = receipt.split('id="received-materials"')[1].split("</ol>")[0]
    assert ids(received, "data-material") == ["M01", "M02", "M03", "M04", "M06"]


def test_complete_materials_go_straight_to_the_receipt(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("wangfang")
    ticks = ["M01", "M02", "M03", "M04", "M05", "M06"]
    response = post(client, URL, {**application(), "check.materials_received": ticks, "check.intake_remarks": "齐全"})
    assert response.status_code == 302 and response.location.endswith("/receipt")
    assert "2026年03月11日" in text(client.get(response.location))


def test_negative_list_is_not_filed(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    auth.login("lijing")
    response = post(client, URL, {**application(), "check.materials_received": ["M01"], "check.negative_list": "on"})
    assert response.status_code == 302 and response.location == "/cases/WH-2026-000001"
    open_ = [t.bpmn_id for t in sqlite_engine.cases.show("WH-2026-000001").open_tasks]
    assert open_ == ["Task_RefuseAcceptance"]


def test_invalid_application_shows_inline_errors_and_registers_nothing(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    auth.login("lijing")
    form = {
        **application(legal_rep_mobile="12345", registered_capital="五百", enterprise_name=""),
        "check.materials_received": ["M01", "M03"],
    }
    response = post(client, URL, form)
    assert response.status_code == 400
    page = text(response)
    assert "本次未登记任何办件" in page
    errors = dict(re.findall(r'data-error-for="([^"]+)">([^<]*)<', page))
    assert set(errors) == {"legal_rep_mobile", "registered_capital", "enterprise_name"}
    assert "手机号码" in errors["legal_rep_mobile"] and "数字" in errors["registered_capital"]
    assert 'value="12345"' in page and 'value="五百"' in page  # what was typed stays
    assert re.search(r'value="M03" id="material-M03" checked', page)  # and what was ticked
    assert sqlite_engine.cases.page_for(sqlite_engine.users.get("huangqiang")).total == 0


def test_invalid_check_alone_also_registers_nothing(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    # The application is valid, so the engine registers the case and draws a number; the check then fails
    # (remarks too long) inside the same transaction: the whole registration rolls back.
    auth.login("lijing")
    response = post(
        client, URL, {**application(), "check.materials_received": ["M01"], "check.intake_remarks": "x" * 1001}
    )
    assert response.status_code == 400
    assert 'data-error-for="intake_remarks"' in text(response)
    assert sqlite_engine.cases.page_for(sqlite_engine.users.get("huangqiang")).total == 0
    ok = post(client, URL, {**application(), "check.materials_received": ["M01"]})
    assert ok.location == "/cases/WH-2026-000001/notice"  # the number was not used up
