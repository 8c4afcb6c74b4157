"""Documents on the worklist: the case page lists them with downloads of the stored bytes, a task that issues a
document previews it first, and the public verification pages need no sign-in."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from onewindow.engine import Engine

from .helpers import AuthActions, open_tasks, post, run_fi_to_decision, start_fi, text
from .test_documents import approve_fi, text_of


def test_case_page_lists_documents_and_downloads_are_the_stored_bytes(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    case_no = start_fi(sqlite_engine)
    approve_fi(sqlite_engine, case_no)
    auth.login("wangfang")
    page = text(client.get(f"/cases/{case_no}"))
    links = dict(re.findall(r'href="(/documents/[A-Z0-9]+\.pdf)" class="document-link" data-kind="([a-z_]+)"', page))
    assert sorted(links.values()) == ["acceptance_notice", "delivery_receipt", "result"]
    assert 'data-delivered="yes"' in page and "已送达" in page
    result_url = next(url for url, kind in links.items() if kind == "result")
    response = client.get(result_url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    (result,) = sqlite_engine.documents.list(case_no=case_no, kind="result")
    assert response.data == sqlite_engine.documents.pdf(result.number)


def test_documents_of_another_sections_case_are_not_found(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    case_no = start_fi(sqlite_engine)
    run_fi_to_decision(sqlite_engine, case_no)
    (notice,) = sqlite_engine.documents.list(case_no=case_no)
    auth.login("sunli")  # market section: not on this case
    assert client.get(f"/documents/{notice.code}.pdf").status_code == 404
    assert client.get("/documents/NOSUCHCODE.pdf").status_code == 404


def test_the_seal_task_previews_what_it_will_issue(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    case_no = start_fi(sqlite_engine)
    run_fi_to_decision(sqlite_engine, case_no)
    decision = open_tasks(sqlite_engine, case_no)["Task_LeadDecision"]
    sqlite_engine.tasks.complete(decision.id, user="zhangwei", data={"decision": "approve"})
    seal = open_tasks(sqlite_engine, case_no)["Task_Seal"]
    auth.login("zhangwei")
    page = text(client.get(f"/tasks/{seal.id}"))
    assert f'href="/tasks/{seal.id}/preview/result.pdf"' in page
    draft = client.get(f"/tasks/{seal.id}/preview/result.pdf")
    assert draft.status_code == 200
    content = text_of(draft.data)
    assert "预览" in content and "外商投资企业设立备案回执" in content and case_no in content
    assert b"%onewindow-signature" not in draft.data  # a draft is never signed
    assert sqlite_engine.documents.list(case_no=case_no, kind="result") == []  # nor stored
    assert client.get(f"/tasks/{seal.id}/preview/refusal_notice.pdf").status_code == 404


def test_public_verification_page_and_key_need_no_sign_in(client: FlaskClient, sqlite_engine: Engine) -> None:
    case_no = start_fi(sqlite_engine)
    approve_fi(sqlite_engine, case_no)
    (result,) = sqlite_engine.documents.list(case_no=case_no, kind="result")
    page = client.get(f"/verify/{result.code}")
    assert page.status_code == 200
    html = text(page)
    assert 'data-status="valid"' in html and result.number in html and "真实有效" in html
    assert "id_no" not in html and "法定代表人" not in html  # key facts only
    key = client.get("/verify/key")
    assert key.status_code == 200 and text(key).startswith("-----BEGIN PUBLIC KEY-----")
    sqlite_engine.documents.revoke(result.number, reason="以欺骗手段取得", actor="zhangwei")
    revoked = text(client.get(f"/verify/{result.code}"))
    assert 'data-status="revoked"' in revoked and "已撤销" in revoked and "以欺骗手段取得" in revoked
    unknown = client.get("/verify/NOSUCHCODE")
    assert unknown.status_code == 404 and "未找到" in text(unknown)


def test_a_refused_case_shows_its_refusal_notice_not_a_supplement_notice(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    case_no = start_fi(sqlite_engine)
    intake = open_tasks(sqlite_engine, case_no)["Task_Intake"]
    sqlite_engine.tasks.complete(intake.id, user="lijing", data={"materials_received": ["M01"], "negative_list": True})
    refuse = open_tasks(sqlite_engine, case_no)["Task_RefuseAcceptance"]
    sqlite_engine.tasks.complete(refuse.id, user="lijing", data={"reasons": "属于负面清单,不适用备案"})
    auth.login("lijing")
    page = text(client.get(f"/cases/{case_no}"))
    assert 'id="notice-link"' not in page
    assert 'data-kind="refusal_notice"' in page and 'data-kind="supplement_notice"' not in page


def test_the_issuing_window_enters_the_express_delivered_date(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    case_no = start_fi(sqlite_engine)
    approve_fi(sqlite_engine, case_no, delivery={"delivery": "express", "courier": "顺丰速运", "express_no": "SF1"})
    auth.login("wangfang")
    page = text(client.get(f"/cases/{case_no}"))
    assert 'data-delivered="no"' in page and "送达中" in page and 'id="delivered-submit"' in page
    bad = post(client, f"/cases/{case_no}/delivered", {"delivered_on": "next week"})
    assert bad.status_code == 302 and sqlite_engine.documents.delivery(case_no)["delivered"] is False  # type: ignore[index]
    done = post(client, f"/cases/{case_no}/delivered", {"delivered_on": "2026-03-02"})
    assert done.status_code == 302
    page = text(client.get(f"/cases/{case_no}"))
    assert 'data-delivered="yes"' in page and "已送达" in page and "2026-03-02" in page
    auth.logout()
    auth.login("zhangwei")  # not at the issuing window
    assert post(client, f"/cases/{case_no}/delivered", {"delivered_on": "2026-03-02"}).status_code in (403, 404)
