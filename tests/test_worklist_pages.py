"""The worklist, task and case pages through Flask's test client, with every error path."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onewindow.engine import Engine, FixedClock
from onewindow.engine._time.workcalendar import CHINA_TZ

from .helpers import (
    ALL_FI_MATERIALS,
    FI,
    FI_APPLICANT,
    AuthActions,
    china,
    ids,
    login,
    make_engine,
    post,
    start_fi,
    task_id,
    text,
)

COMPLETE = {"materials_received": ALL_FI_MATERIALS, "negative_list": False}


def accepted(engine: Engine, name: str = "成都锦江咨询有限公司") -> str:
    return engine.cases.intake(FI, {**FI_APPLICANT, "enterprise_name": name}, COMPLETE, actor="lijing").summary.case_no


def test_worklist_shows_my_sections_tasks(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = accepted(sqlite_engine)
    waiting = start_fi(sqlite_engine)
    auth.login("liuyang")
    page = text(client.get("/"))
    assert ids(page, "data-case-no") == [case_no, case_no]  # lead review and investment co-review
    assert waiting not in page  # still at the window
    assert "主办科室审查" in page and "投资促进科会审" in page
    assert 'data-level="green"' in page and "剩 7 个工作日" in page
    assert "2026-03-11" in page  # the committed due date; the co-review's own limit shows too
    assert "环节: 2026-03-05" in page


def test_worklist_filters_search_and_paging(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine, clock: FixedClock
) -> None:
    for i in range(7):
        clock.set(clock.now() + timedelta(minutes=1))
        accepted(sqlite_engine, f"公司{i}号")
    auth.login("zhangwei")
    first = text(client.get("/"))
    assert 'data-total="7"' in first and len(ids(first, "data-task-id")) == 5  # PER_PAGE is 5 in tests
    assert 'id="page-next"' in first
    second = text(client.get("/?page=2"))
    assert len(ids(second, "data-task-id")) == 2 and 'id="page-prev"' in second
    assert set(ids(first, "data-task-id")).isdisjoint(ids(second, "data-task-id"))
    searched = text(client.get("/?q=公司3号"))
    assert 'data-total="1"' in searched and "公司3号" in searched
    assert 'data-total="7"' in text(client.get("/?matter=foreign_investment_filing"))
    assert 'data-total="0"' in text(client.get("/?matter=enterprise_registration"))
    assert 'data-total="0"' in text(client.get("/?mine=1"))
    task = ids(first, "data-task-id")[0]
    post(client, f"/tasks/{task}/claim", {"next": "/?mine=1"})
    assert 'data-total="1"' in text(client.get("/?mine=1"))
    assert 'data-total="6"' in text(client.get("/?unclaimed=1"))
    assert 'data-total="7"' in text(client.get("/?page=abc"))  # a bad page number is page 1


def test_applicant_text_is_escaped(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    evil = '<script>alert("x")</script>公司'
    case_no = start_fi(sqlite_engine, enterprise_name=evil, business_scope="<b>咨询</b>")
    auth.login("lijing")
    for url in ("/", f"/cases/{case_no}", f"/tasks/{task_id(sqlite_engine, case_no, 'Task_Intake')}", "/cases/"):
        page = text(client.get(url))
        assert "<script>alert" not in page and "<b>咨询" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;公司" in page


def test_claim_and_unclaim(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = start_fi(sqlite_engine)
    intake = task_id(sqlite_engine, case_no, "Task_Intake")
    auth.login("lijing")
    response = post(client, f"/tasks/{intake}/claim", {"next": "/"})
    assert response.status_code == 302 and response.location == "/"
    assert sqlite_engine.tasks.get(intake).claimed_by == "lijing"
    assert "已认领" in text(client.get("/"))
    post(client, f"/tasks/{intake}/unclaim")
    assert sqlite_engine.tasks.get(intake).claimed_by is None


def test_claimed_by_someone_else(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = start_fi(sqlite_engine)
    intake = task_id(sqlite_engine, case_no, "Task_Intake")
    sqlite_engine.tasks.claim(intake, user="wangfang")
    auth.login("lijing")
    page = text(client.get(f"/tasks/{intake}"))
    assert 'id="claimed-by-other"' in page and "王芳" in page
    post(client, f"/tasks/{intake}/claim")
    assert "已被他人认领或办理" in text(client.get("/"))
    response = post(client, f"/tasks/{intake}", {"check.materials_received": "M01", "negative_list": "false"})
    assert response.status_code == 403
    detail = re.search(r'id="error-detail">([^<]*)<', text(response))
    assert detail is not None and detail.group(1) == "该任务已由王芳认领,只有认领人可以办理。"
    assert sqlite_engine.tasks.get(intake).state == "ready"


def test_chief_reassigns_clerk_may_not(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = accepted(sqlite_engine)
    lead = task_id(sqlite_engine, case_no, "Task_LeadReview")
    auth.login("zhangwei")
    page = text(client.get("/"))
    assert 'name="reassign"' in page and "刘洋" in page
    assert 'value="" selected disabled' in page  # no silent default: the chief chooses, 退回科室 is explicit
    post(client, f"/tasks/{lead}/reassign", {"assignee": "liuyang"})  # a reason is required
    assert "请选择改派对象并填写改派理由" in text(client.get("/"))
    assert sqlite_engine.tasks.get(lead).claimed_by is None
    response = post(client, f"/tasks/{lead}/reassign", {"assignee": "liuyang", "reason": "熟悉外资业务"})
    assert response.status_code == 302
    assert sqlite_engine.tasks.get(lead).claimed_by == "liuyang"
    assert "已将主办科室审查" in text(client.get("/"))
    (event,) = [e for e in sqlite_engine.cases.show(case_no).history if e.kind == "task_reassigned"]
    assert event.data["reason"] == "熟悉外资业务" and "熟悉外资业务" in event.title
    post(client, f"/tasks/{lead}/reassign", {"assignee": "lijing", "reason": "试试"})
    assert "lijing 不是本科室成员" in text(client.get("/"))
    assert sqlite_engine.tasks.get(lead).claimed_by == "liuyang"

    other = client.application.test_client()
    login(other, "liuyang")
    assert 'name="reassign"' not in text(other.get("/"))
    denied = post(other, f"/tasks/{lead}/reassign", {"assignee": "__section__", "reason": "x"})
    assert denied.status_code == 403
    assert sqlite_engine.tasks.get(lead).claimed_by == "liuyang"


def test_other_sections_task_and_case_are_404(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    """A case or task outside the clerk's sections answers exactly as one that does not exist (404, same
    words), so case numbers cannot be enumerated."""
    case_no = start_fi(sqlite_engine)
    intake = task_id(sqlite_engine, case_no, "Task_Intake")
    auth.login("zhangwei")
    urls = (f"/tasks/{intake}", f"/cases/{case_no}", f"/cases/{case_no}/notice", f"/cases/{case_no}/receipt")
    for url in (*urls, f"/cases/{case_no}/diagram.svg"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert 'data-status="404"' in text(response) or url.endswith(".svg")
        assert "成都锦江咨询有限公司" not in text(response)
    # The CSRF token is signed with a timestamp and the request id is new for every request: both differ
    # between any two answers, whatever the case.
    token = re.compile(r'name="csrf_token" value="[^"]*"|请求编号:[0-9a-f]+')
    missing = token.sub("", text(client.get("/cases/WH-2026-999999")).replace("WH-2026-999999", case_no))
    assert token.sub("", text(client.get(f"/cases/{case_no}"))) == missing
    for url in (f"/tasks/{intake}", f"/tasks/{intake}/claim", f"/tasks/{intake}/unclaim", f"/tasks/{intake}/reassign"):
        assert post(client, url, {}).status_code == 404, url
    assert sqlite_engine.tasks.get(intake).claimed_by is None


def test_unknown_task_and_case_are_404(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("lijing")
    assert client.get("/tasks/not-a-uuid").status_code == 404
    assert client.get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/cases/WH-2026-999999").status_code == 404
    assert client.get("/intake/no_such_matter").status_code == 404
    assert client.get("/guide/no_such_matter").status_code == 404


def test_task_page_shows_case_and_earlier_opinions(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    case_no = accepted(sqlite_engine)
    sqlite_engine.tasks.complete(
        task_id(sqlite_engine, case_no, "Task_InvestmentCoReview"),
        user="chenjie",
        data={"co_opinion": "项目不涉及负面清单", "co_agree": True},
    )
    auth.login("zhangwei")
    page = text(client.get(f"/tasks/{task_id(sqlite_engine, case_no, 'Task_LeadReview')}"))
    assert 'id="task-form"' in page and 'name="review_opinion"' in page
    assert 'type="radio" name="conditions_met" value="true"' in page  # required boolean: yes or no
    opinions = page.split('id="opinion-list"')[1]
    assert "项目不涉及负面清单" in opinions and "陈杰" in opinions and "投资促进审批科" in opinions
    assert "外商投资企业设立备案申报表" in opinions  # the window's materials, by name
    assert "法定代表人手机号码" in page and "13800138000" in page  # the application, by schema titles
    assert 'data-material="M06" data-received="yes"' in page


def test_complete_with_inline_errors_then_success(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    case_no = accepted(sqlite_engine)
    lead = task_id(sqlite_engine, case_no, "Task_LeadReview")
    auth.login("zhangwei")
    response = post(client, f"/tasks/{lead}", {"review_opinion": "  "})
    assert response.status_code == 400
    page = text(response)
    assert re.search(r'data-error-for="review_opinion">[^<]*必填', page)
    assert re.search(r'data-error-for="conditions_met">[^<]*必填', page)
    assert sqlite_engine.tasks.get(lead).state == "ready"

    response = post(client, f"/tasks/{lead}", {"review_opinion": "材料齐全", "conditions_met": "true"})
    assert response.status_code == 302 and response.location == "/"
    assert "已办理:主办科室审查" in text(client.get("/"))
    done = sqlite_engine.tasks.get(lead)
    assert (done.state, done.completed_by) == ("completed", "zhangwei")
    closed = text(client.get(f"/tasks/{lead}"))
    assert 'id="task-closed"' in closed and 'id="task-form"' not in closed


def test_enum_dates_and_numbers_round_trip(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = accepted(sqlite_engine)
    for bpmn_id, user in (("Task_InvestmentCoReview", "chenjie"), ("Task_FinanceCoReview", "zhaomin")):
        sqlite_engine.tasks.complete(
            task_id(sqlite_engine, case_no, bpmn_id), user=user, data={"co_opinion": "同意", "co_agree": True}
        )
    sqlite_engine.tasks.complete(
        task_id(sqlite_engine, case_no, "Task_LeadReview"),
        user="zhangwei",
        data={"review_opinion": "同意", "conditions_met": True},
    )
    decision = task_id(sqlite_engine, case_no, "Task_LeadDecision")
    auth.login("zhangwei")
    page = text(client.get(f"/tasks/{decision}"))
    assert 'type="radio" name="decision" value="approve"' in page and "准予" in page
    refused = post(client, f"/tasks/{decision}", {"decision": "refuse"})  # if refuse then reasons required
    assert refused.status_code == 400 and 'data-error-for="decision_reasons"' in text(refused)
    assert 'value="refuse" checked' in text(refused)  # what was chosen stays chosen
    assert post(client, f"/tasks/{decision}", {"decision": "refuse", "decision_reasons": "不符合"}).status_code == 302
    deliver = task_id(sqlite_engine, case_no, "Task_DeliverRefusal")
    auth.login("wangfang")
    page = text(client.get(f"/tasks/{deliver}"))
    assert 'type="date"' in page
    bad = post(
        client,
        f"/tasks/{deliver}",
        {"delivery": "window", "id_checked": "on", "delivered_on": "05/03/2026"},
    )
    assert bad.status_code == 400 and 'data-error-for="delivered_on"' in text(bad)
    ok = post(
        client,
        f"/tasks/{deliver}",
        {"delivery": "window", "id_checked": "on", "delivered_on": "2026-03-05"},
    )
    assert ok.status_code == 302
    assert sqlite_engine.cases.show(case_no).summary.status == "rejected"


def test_conflict_when_completed_meanwhile(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = accepted(sqlite_engine)
    lead = task_id(sqlite_engine, case_no, "Task_LeadReview")
    auth.login("liuyang")
    assert client.get(f"/tasks/{lead}").status_code == 200  # the page is open...
    sqlite_engine.tasks.complete(lead, user="zhangwei", data={"review_opinion": "同意", "conditions_met": True})
    response = post(client, f"/tasks/{lead}", {"review_opinion": "我的意见", "conditions_met": "true"})
    assert response.status_code == 409  # ...and someone else was faster
    page = text(response)
    assert "已被他人处理" in page and "该任务已由张伟办理,你的提交未保存" in page
    flashes = re.search(r'id="flashes">.*?</div>', page, re.S)
    assert flashes is not None and lead not in flashes.group(0) and "zhangwei" not in flashes.group(0)
    assert "Traceback" not in page
    kept = re.search(r'id="kept-entries".*?</div>', page, re.S)
    assert kept is not None and "我的意见" in kept.group(0)  # the typed opinion is not lost


def test_case_page(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = accepted(sqlite_engine)
    auth.login("chenjie")
    page = text(client.get(f"/cases/{case_no}"))
    assert 'data-status="accepted"' in page and "办理中" in page
    lanes = ids(page, "data-section")
    assert set(lanes) == {"commerce", "investment", "finance"}
    assert page.count('href="/tasks/') == 1  # only the investment task is his to open
    timeline = page.split('id="timeline"')[1]
    assert ids(timeline, "data-kind")[:3] == ["case_started", "task_completed", "milestone"]
    assert "李静" in timeline and "外商投资企业设立备案申报表" in timeline
    assert "<svg" in page and 'data-element-id="Task_Intake"' in page
    assert client.get(f"/cases/{case_no}/receipt").status_code == 200
    svg = client.get(f"/cases/{case_no}/diagram.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_case_list(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    mine = accepted(sqlite_engine, "可见公司")
    auth.login("zhaomin")
    page = text(client.get("/cases/"))
    assert ids(page, "data-case-no") == [mine]
    assert 'data-total="0"' in text(client.get("/cases/?q=不存在"))
    admin = client.application.test_client()
    login(admin, "huangqiang")
    assert mine in text(admin.get("/cases/")) and admin.get(f"/cases/{mine}").status_code == 200


def test_guide(client: FlaskClient) -> None:
    index = text(client.get("/guide/"))
    assert ids(index, "data-matter") == [  # by code
        "foreign_investment_filing",
        "enterprise_registration",
        "individual_business_registration",
        "food_business_licence",
        "public_place_hygiene_licence",
        "enterprise_investment_approval",
    ]
    page = text(client.get("/guide/foreign_investment_filing"))
    assert "外商投资企业设立备案" in page and "承诺件" in page
    assert 'id="committed-limit">7个工作日' in page and 'id="legal-limit">无统一法定时限' in page
    parts = page.split('id="legal-limit-parts"')[1].split("</table>")[0]
    assert (
        "3个工作日" in parts
        and "商务部令2016年第3号" in parts
        and "130" not in page.split('id="guide-limits"')[1].split("</section>")[0]
    )
    assert 'id="guide-historical"' in page and "历史制度" in page
    assert "外商投资企业设立备案申报承诺书" in page and "申请人(全体投资者签署)" in page
    assert "不收费" in page and "028-85550101" in page and "商务部令2016年第3号" in page
    assert "负面清单" in page  # the acceptance conditions
    assert "<svg" in page
    registration = text(client.get("/guide/enterprise_registration"))
    assert "即办件" in registration and "1个工作日" in registration
    assert client.get("/guide/foreign_investment_filing/diagram.svg").mimetype == "image/svg+xml"


def test_case_page_explains_the_legal_clock(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine, clock: FixedClock
) -> None:
    clock.set(china(2026, 4, 28, 9, 30).astimezone(UTC))  # a Tuesday before Labour Day
    case_no = accepted(sqlite_engine)
    clock.advance(timedelta(days=1))
    sqlite_engine.case_clock.pause(case_no, kind="expert_review", reason="专家评审出资来源", actor="zhangwei")
    sqlite_engine.case_clock.extend(case_no, working_days=5, approver="局长王某", reason="会审复杂", actor="zhangwei")
    auth.login("zhangwei")
    page = text(client.get(f"/cases/{case_no}"))
    assert 'id="clock"' in page and "法定时限" in page
    assert 'data-level="paused"' in page  # no colour while the clock stands still
    worklist = text(client.get("/"))
    assert 'data-level="paused"' in worklist and "暂停计时" in worklist
    assert 'id="clock-paused"' in page and "专家评审: " in page and "专家评审出资来源" in page
    assert "+5 · 批准人 局长王某" in page and "5 / 15" in page
    # The filing has no single statutory limit: the committed 7 working days (+5) are enforced, and they
    # cross Labour Day and its make-up working day.
    assert 'id="clock-no-statutory">无统一法定时限' in page
    assert 'data-day="2026-05-01" data-kind="holiday"' in page
    assert 'data-day="2026-05-09" data-kind="makeup_workday"' in page
    due = sqlite_engine.case_clock.explain(case_no).committed
    assert due is not None and f'data-due="committed">{due.due.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}<' in page


def test_page_templates_are_compiled_before_the_first_request(app: Flask) -> None:
    """A served app compiles every page template when it is made (create_app outside tests), so a worker's
    first clerks do not wait behind Jinja's compiler."""
    from onewindow.worklist.templating import compile_all

    names = set(app.jinja_env.list_templates(extensions=("html",)))
    assert {"worklist/index.html", "tasks/task.html", "base.html"} <= names
    compile_all(app)
    cached = {key[1] for key in app.jinja_env.cache} if app.jinja_env.cache is not None else set()
    assert names <= cached


def test_row_links_are_the_urls_url_for_builds(app: Flask) -> None:
    """The worklist builds each row's links from one url_for per endpoint: the same URL, quoted the same way,
    whatever a case number or task id holds."""
    from flask import url_for

    from onewindow.worklist.templating import row_url

    values: list[Any] = ["WH-2026-000001", "a b/c?d#e&f", "中文 100%", "<x>\"'", "__row_value__", 42]
    with app.test_request_context("/", base_url="http://bureau.example/prefix"):
        for endpoint, key in (("cases.show", "case_no"), ("tasks.show", "task_id"), ("tasks.claim", "task_id")):
            link = row_url(endpoint, key)
            assert [link(v) for v in values] == [url_for(endpoint, **{key: v}) for v in values]


def test_a_served_app_has_parsed_every_deployed_process_before_its_first_request(
    sqlite_url: str, clock: FixedClock, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server worker's first completion of a matter does not wait while the engine parses its BPMN."""
    from onewindow.engine._services import runtime
    from onewindow.worklist import create_app

    task = task_id(sqlite_engine, start_fi(sqlite_engine), "Task_Intake")
    worker = make_engine(sqlite_url, clock)  # a new server process: nothing parsed yet
    try:
        create_app({"ENGINE": worker, "SECRET_KEY": "x"})  # not testing: as a server worker makes it

        def parse(*args: object) -> None:
            raise AssertionError("a process parsed after the server started")

        monkeypatch.setattr(runtime, "build_bundle", parse)
        assert worker.tasks.form_schema(task) is not None
        assert all(worker.cases.intake_form(m.key) is not None for m in worker.repository.matters())
    finally:
        worker.close()
