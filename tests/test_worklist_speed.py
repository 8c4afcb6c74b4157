"""A clerk's speed: claiming several tasks at once, 内部意见 on a case, the keyboard shortcuts' help page."""

from __future__ import annotations

from flask.testing import FlaskClient

from onewindow.engine import ConflictError, Engine, EventKind, NotFoundError

from .helpers import login, open_tasks, post, start_fi, text
from .test_worklist_pages import accepted as accepted_case


def test_claim_many_reports_each_task(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    a, b, c = (accepted_case(engine) for _ in range(3))
    taken = open_tasks(engine, b)["Task_LeadReview"].id
    engine.tasks.claim(taken, user="zhangwei")  # someone else got there first
    foreign = open_tasks(engine, c)["Task_FinanceCoReview"].id  # finance: not liuyang's section
    wanted = [open_tasks(engine, a)["Task_LeadReview"].id, taken, foreign, "no-such-task"]
    outcomes = engine.tasks.claim_many(engine.users.get("liuyang"), wanted)
    assert [o.task_id for o in outcomes] == wanted
    assert [o.ok for o in outcomes] == [True, False, False, False]
    assert isinstance(outcomes[1].error, ConflictError) and outcomes[1].task is not None
    assert isinstance(outcomes[2].error, NotFoundError) and outcomes[2].task is None
    assert open_tasks(engine, a)["Task_LeadReview"].claimed_by == "liuyang"
    assert open_tasks(engine, b)["Task_LeadReview"].claimed_by == "zhangwei"


def test_bulk_claim_on_the_worklist(client: FlaskClient, sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    a, b = accepted_case(engine), accepted_case(engine)
    ta, tb = open_tasks(engine, a)["Task_LeadReview"].id, open_tasks(engine, b)["Task_LeadReview"].id
    engine.tasks.claim(tb, user="zhangwei")
    login(client, "liuyang")
    page = text(client.get("/"))
    assert 'id="bulk-claim"' in page and f'name="task_id" value="{ta}" form="bulk-claim"' in page
    done = post(client, "/tasks/claim", {"task_id": [ta, tb], "next": "/"}, follow_redirects=True)
    html = text(done)
    assert f"已认领:主办科室审查({a})" in html
    assert f"主办科室审查({b})已被他人认领或办理" in html  # the failure named per task
    assert open_tasks(engine, a)["Task_LeadReview"].claimed_by == "liuyang"
    nothing = post(client, "/tasks/claim", {"next": "/"}, follow_redirects=True)
    assert "请先勾选要认领的任务" in text(nothing)


def test_internal_comments_stay_with_the_sections(client: FlaskClient, sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    case_no = accepted_case(engine)
    login(client, "chenjie")  # investment: a co-reviewing section of the case
    added = post(client, f"/cases/{case_no}/comments", {"text": "申请人来电:租赁合同正在续签"}, follow_redirects=True)
    assert "已记录内部意见" in text(added) and "申请人来电:租赁合同正在续签" in text(added)
    comment = [e for e in engine.cases.show(case_no).history if e.kind == EventKind.CASE_COMMENT]
    assert [(e.actor, e.section, e.data["text"]) for e in comment] == [
        ("chenjie", "investment", "申请人来电:租赁合同正在续签")
    ]
    assert engine.audit.case_chain(case_no) is None  # a link of the case's hash chain
    empty = post(client, f"/cases/{case_no}/comments", {"text": "  "}, follow_redirects=True)
    assert "内部意见不能为空" in text(empty)
    post(client, "/logout")
    login(client, "zhangwei")  # the lead section sees it on the task page
    lead = open_tasks(engine, case_no)["Task_LeadReview"].id
    assert "租赁合同正在续签" in text(client.get(f"/tasks/{lead}"))
    post(client, "/logout")
    login(client, "sunli")  # market: no step in this case
    assert post(client, f"/cases/{case_no}/comments", {"text": "x"}).status_code == 404
    post(client, "/logout")
    code = engine.cases.show(case_no).query_code  # the applicant's 办件查询 shows no comment
    tracked = client.get(f"/hall/track?case={case_no}&code={code}")
    assert tracked.status_code == 200 and "租赁合同" not in text(tracked)


def test_shortcuts_help_is_linked_from_the_header(client: FlaskClient, sqlite_engine: Engine) -> None:
    start_fi(sqlite_engine)
    login(client, "lijing")
    home = text(client.get("/"))
    assert 'data-nav="shortcuts"' in home and 'data-shortcuts="worklist"' in home
    help_page = text(client.get("/help/shortcuts"))
    for key in ("j", "k", "c", "o", "/", "?"):
        assert f'data-key="{key}"' in help_page
