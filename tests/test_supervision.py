"""审管信息 in the worklist: a supervising department's inbox and 认领, the oversight page's colours, and
feedback (监管发现审批瑕疵) that opens a linked correction case whose outcome goes back to the department."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from onewindow.engine import ConflictError, Engine, FixedClock, NotFoundError, ValidationError

from .helpers import PASSWORD, login, open_tasks, post, text
from .outbox_support import walk_to_result

SUPERVISOR = "qianjun"  # 武侯区商务局 (commerce_bureau), an inbox department in the shipped bureau.toml


def _feedback(engine: Engine, case_no: str, key: str = "k-1", department: str = "commerce_bureau") -> str:
    found = engine.feedback.report(department, case_no, "决定书未载明备案依据条款", key=key, actor="api:commerce")
    return found.correction_case_no


def test_feedback_opens_a_linked_correction_case_for_the_lead_section_and_reports_its_outcome(
    engine: Engine, clock: FixedClock
) -> None:
    case_no = walk_to_result(engine)
    correction = _feedback(engine, case_no)
    view = engine.cases.show(correction)
    assert view.summary.matter == "supervision_correction" and view.summary.origin_case_no == case_no
    assert view.summary.committed_due_at is not None  # its limit runs from the report
    [task] = view.open_tasks
    assert (task.bpmn_id, task.section) == ("Task_Correct", "commerce")  # the origin's lead section
    assert task.due_at is not None
    original = engine.cases.show(case_no)
    assert [f.case_no for f in original.followups] == [correction]
    assert any(e.kind == "supervision_feedback" and correction in e.title for e in original.history)
    # The same report again (a department's retry) opens nothing new.
    assert _feedback(engine, case_no) == correction
    assert [f.correction_case_no for f in engine.feedback.for_case(case_no)] == [correction]
    with pytest.raises(ConflictError):
        engine.feedback.report("commerce_bureau", case_no, "另一个问题", key="k-1", actor="x")

    clock.advance(timedelta(hours=3))
    engine.tasks.complete(
        task.id, user="zhangwei", data={"finding": "confirmed", "measures": "已补正决定书,载明依据条款"}
    )
    assert engine.cases.show(correction).summary.status == "approved"
    [outcome] = [m for m in engine.outbox.messages(case_no=correction)]
    assert outcome.department == "commerce_bureau" and outcome.kind == "correction_outcome"
    assert outcome.payload["origin_case_no"] == case_no
    assert (outcome.payload["finding"], outcome.payload["measures"]) == ("confirmed", "已补正决定书,载明依据条款")


def test_feedback_on_an_unknown_case_or_from_another_department_opens_nothing(engine: Engine) -> None:
    case_no = walk_to_result(engine)
    with pytest.raises(NotFoundError, match="no approval result was shared with commerce_bureau"):
        _feedback(engine, "WH-2026-999999")
    with pytest.raises(NotFoundError, match="no approval result was shared with market_regulation"):
        _feedback(engine, case_no, department="market_regulation")  # the filing is the commerce bureau's
    with pytest.raises(ValidationError):
        engine.feedback.report("commerce_bureau", case_no, "   ", key="k", actor="x")
    assert engine.cases.show(case_no).followups == []
    assert engine.feedback.for_case(case_no) == []


def test_inbox_acknowledge_and_report_a_flaw_in_the_worklist(app: object, client: FlaskClient) -> None:
    engine: Engine = app.config["ENGINE"]  # type: ignore[attr-defined]
    engine.users.set_password(SUPERVISOR, PASSWORD)
    case_no = walk_to_result(engine)
    [message] = engine.outbox.messages(case_no=case_no)
    login(client, SUPERVISOR)
    home = text(client.get("/"))
    assert 'id="supervision-waiting" data-count="1"' in home
    inbox = text(client.get("/supervision/"))
    assert f'data-message-id="{message.id}"' in inbox and case_no in inbox
    assert all(d["number"] in inbox for d in message.payload["documents"])
    response = post(client, f"/supervision/{message.id}/acknowledge")
    assert response.status_code == 302
    assert engine.outbox.get(message.id).acknowledged_by == SUPERVISOR
    assert any(e.kind == "result_acknowledged" for e in engine.cases.show(case_no).history)

    page = text(client.get(f"/supervision/{message.id}"))
    key = page.split('name="key" value="')[1].split('"')[0]
    empty = post(client, f"/supervision/{message.id}/feedback", {"flaw": " ", "key": key})
    assert empty.status_code == 400 and "请写明瑕疵" in text(empty)
    assert engine.feedback.for_case(case_no) == []
    for _ in range(2):  # sent twice (a double click): one correction case
        done = post(client, f"/supervision/{message.id}/feedback", {"flaw": "未载明依据", "key": key})
        assert done.status_code == 302
    [found] = engine.feedback.for_case(case_no)
    assert found.correction_case_no in text(client.get(f"/supervision/{message.id}"))
    # another department's message and the staff's pages are not his
    assert client.get("/cases/" + case_no).status_code == 404
    client.post("/logout")


def test_another_department_cannot_see_or_acknowledge_a_message(sqlite_engine: Engine) -> None:
    case_no = walk_to_result(sqlite_engine)
    [message] = sqlite_engine.outbox.messages(case_no=case_no)
    other = sqlite_engine.users.add("li_si", sections=[], role="supervisor", department="finance_bureau")
    with pytest.raises(NotFoundError):
        sqlite_engine.outbox.acknowledge(other, message.id)
    with pytest.raises(NotFoundError):
        sqlite_engine.feedback.report_on_message(other, message.id, "x", key="k")
    assert sqlite_engine.outbox.get(message.id).acknowledged_at is None


def test_the_oversight_page_turns_unacknowledged_results_yellow_then_red(
    app: object, client: FlaskClient, clock: FixedClock
) -> None:
    engine: Engine = app.config["ENGINE"]  # type: ignore[attr-defined]
    case_no = walk_to_result(engine)
    [message] = engine.outbox.messages(case_no=case_no)
    login(client, "zhangwei")  # a chief
    page = text(client.get("/supervision/monitor"))
    assert f'data-message-id="{message.id}" data-level="green"' in page
    clock.set(engine.outbox.get(message.id).ack_due_at - timedelta(hours=1))
    login(client, "zhangwei")  # days later: a new session
    assert f'data-message-id="{message.id}" data-level="yellow"' in text(client.get("/supervision/monitor"))
    clock.set(engine.outbox.get(message.id).ack_due_at + timedelta(minutes=1))
    login(client, "zhangwei")
    page = text(client.get("/supervision/monitor"))
    assert f'data-message-id="{message.id}" data-level="red"' in page
    row = page.split('data-department="commerce_bureau"')[1].split("</tr>")[0]
    assert 'data-count="unacknowledged">1<' in row and 'data-count="red"><span class="badge red">1<' in row
    # the case page says so too
    assert f'data-message-id="{message.id}" data-department="commerce_bureau" data-state="delivered"' in text(
        client.get(f"/cases/{case_no}")
    )
    client.post("/logout")
    login(client, "liuyang")  # a clerk: not for him
    assert client.get("/supervision/monitor").status_code == 404
    assert client.get("/supervision/").status_code == 404


def test_the_correction_case_is_in_the_lead_sections_worklist(engine: Engine) -> None:
    case_no = walk_to_result(engine)
    correction = _feedback(engine, case_no)
    commerce = engine.tasks.for_section("commerce")
    assert correction in {t.case_no for t in commerce}
    assert "Task_Correct" in open_tasks(engine, correction)
