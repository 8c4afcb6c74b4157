"""退回上一环节: a clerk sends the task he works back to the previous human step of its case, with a reason.

The previous step is the one the token came through (across the review join: the lead section's own review,
not the co-review that happened to arrive last); it reopens for its section, claimed by who did it, with its
step due date counted from the send-back; the history says who, what and why; a case that has no earlier
step, or whose decision has been issued since, refuses in one line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from onewindow.engine import ConflictError, Engine, FixedClock, PermissionDeniedError, Upload, ValidationError
from onewindow.engine._store.document_models import DocumentRow
from onewindow.engine._store.models import CaseRow, EventRow, TaskRow

from .helpers import (
    ALL_FI_MATERIALS,
    AuthActions,
    OnewindowRunner,
    open_tasks,
    post,
    run_fi_to_decision,
    start_fi,
    text,
)


def history(engine: Engine, case_no: str, kind: str) -> list[EventRow]:
    with engine.db.reading() as s:
        return list(
            s.scalars(
                select(EventRow)
                .join(CaseRow, CaseRow.id == EventRow.case_id)
                .where(EventRow.kind == kind, CaseRow.case_no == case_no)
                .order_by(EventRow.id)
            )
        )


def test_the_decision_goes_back_to_the_lead_review_and_comes_forward_again(engine: Engine, clock: FixedClock) -> None:
    case_no = start_fi(engine)
    run_fi_to_decision(engine, case_no)  # the finance co-review arrives last at the join
    decision = open_tasks(engine, case_no)["Task_LeadDecision"]
    review_before = engine.tasks.get(_task_of(engine, "Task_LeadReview"))
    clock.advance(timedelta(hours=1))

    reopened = engine.tasks.send_back(decision.id, user="zhangwei", reason="经营范围表述需核实")

    assert reopened.bpmn_id == "Task_LeadReview" and reopened.id == review_before.id
    assert reopened.state == "ready" and reopened.claimed_by == "zhangwei"
    assert reopened.section == review_before.section and reopened.created_at == clock.now()
    assert set(open_tasks(engine, case_no)) == {"Task_LeadReview"}  # the co-reviews stay done
    assert engine.tasks.get(decision.id).state == "cancelled"
    (event,) = history(engine, case_no, "task_sent_back")
    assert event.actor == "zhangwei" and event.task_id == decision.id
    assert event.data["reason"] == "经营范围表述需核实" and event.data["to_task"] == reopened.id
    assert "经营范围表述需核实" in event.title and "主办科室审查" in event.title
    assert not history(engine, case_no, "task_cancelled")  # the send-back's own entry says why it closed

    engine.tasks.complete(reopened.id, user="zhangwei", data={"review_opinion": "已核实", "conditions_met": True})
    again = open_tasks(engine, case_no)
    assert set(again) == {"Task_LeadDecision"}  # the join fires again without asking the co-reviews twice
    assert again["Task_LeadDecision"].id != decision.id
    engine.tasks.complete(again["Task_LeadDecision"].id, user="zhangwei", data={"decision": "approve"})
    assert set(open_tasks(engine, case_no)) == {"Task_Seal"}


def test_a_review_goes_back_to_intake_and_the_case_stays_accepted(engine: Engine, clock: FixedClock) -> None:
    case_no = start_fi(engine)
    intake = open_tasks(engine, case_no)["Task_Intake"]
    engine.tasks.complete(
        intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    accepted = engine.cases.show(case_no).summary
    clock.advance(timedelta(days=1))
    review = open_tasks(engine, case_no)["Task_LeadReview"]

    reopened = engine.tasks.send_back(review.id, user="zhangwei", reason="M03 复印件不清晰,请窗口核对原件")

    assert reopened.bpmn_id == "Task_Intake" and reopened.claimed_by == "lijing"
    assert set(open_tasks(engine, case_no)) == {"Task_Intake"}  # the parallel co-reviews are withdrawn
    summary = engine.cases.show(case_no).summary
    assert summary.accepted_at == accepted.accepted_at and summary.committed_due_at == accepted.committed_due_at
    assert summary.status == "accepted"
    # After acceptance the window's step is timed by its own limit, not by the 5 days of Art. 32 again.
    assert reopened.due_at == engine.runtime.deadlines.step_due(
        clock.now(), _step_limit(engine, case_no, "Task_Intake")
    )

    engine.tasks.complete(
        reopened.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    assert {"Task_LeadReview", "Task_InvestmentCoReview", "Task_FinanceCoReview"} <= set(open_tasks(engine, case_no))
    # Going through acceptance again records it once and issues one acceptance notice.
    milestones = [e for e in history(engine, case_no, "milestone") if e.data.get("milestone") == "accepted"]
    assert len(milestones) == 1
    with engine.db.reading() as s:
        notices = s.scalar(select(func.count()).where(DocumentRow.kind == "acceptance_notice"))
    assert notices == 1


def _task_of(engine: Engine, bpmn_id: str) -> str:
    with engine.db.reading() as s:
        return str(s.scalars(select(TaskRow.id).where(TaskRow.bpmn_id == bpmn_id)).one())


def _step_limit(engine: Engine, case_no: str, bpmn_id: str) -> str | None:
    with engine.db.reading() as s:
        row = s.scalars(select(CaseRow).where(CaseRow.case_no == case_no)).one()
        meta = engine.runtime.bundle(s, row.definition_id).node(bpmn_id)
    return meta.step_limit if meta else None


def test_what_cannot_be_sent_back_says_why_and_changes_nothing(engine: Engine) -> None:
    case_no = start_fi(engine)
    intake = open_tasks(engine, case_no)["Task_Intake"]
    with pytest.raises(ConflictError, match="no earlier step"):
        engine.tasks.send_back(intake.id, user="lijing", reason="无")
    with pytest.raises(ValidationError, match="reason"):
        engine.tasks.send_back(intake.id, user="lijing", reason="  ")
    run_fi_to_decision(engine, case_no)
    decision = open_tasks(engine, case_no)["Task_LeadDecision"]
    with pytest.raises(PermissionDeniedError):
        engine.tasks.send_back(decision.id, user="lijing", reason="不属于本科室")
    engine.tasks.complete(decision.id, user="zhangwei", data={"decision": "approve"})
    seal = open_tasks(engine, case_no)["Task_Seal"]
    engine.tasks.complete(seal.id, user="zhangwei", data={"seal_no": "510107-01"})
    issue = open_tasks(engine, case_no)["Task_Issue"]
    version = engine.cases.show(case_no).summary
    with pytest.raises(ConflictError, match="revoked, not sent back"):
        engine.tasks.send_back(issue.id, user="wangfang", reason="证照信息有误")
    assert set(open_tasks(engine, case_no)) == {"Task_Issue"}
    assert engine.cases.show(case_no).summary == version
    assert not history(engine, case_no, "task_sent_back")
    engine.tasks.complete(issue.id, user="wangfang", data={"delivery": "window", "id_checked": True})
    assert engine.cases.show(case_no).summary.status == "approved"


# -- the worklist and the CLI ------------------------------------------------------------------------------
def test_the_task_page_sends_back_with_a_reason(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = start_fi(sqlite_engine)
    intake = open_tasks(sqlite_engine, case_no)["Task_Intake"]
    run_fi_to_decision(sqlite_engine, case_no)
    decision = open_tasks(sqlite_engine, case_no)["Task_LeadDecision"]
    auth.login("zhangwei")
    page = text(client.get(f"/tasks/{decision.id}"))
    assert 'id="send-back"' in page and "退回上一环节" in page and 'name="reason"' in page

    empty = post(client, f"/tasks/{decision.id}/send-back", {"reason": "  "}, follow_redirects=True)
    assert "请填写退回理由" in text(empty)
    assert set(open_tasks(sqlite_engine, case_no)) == {"Task_LeadDecision"}

    done = post(client, f"/tasks/{decision.id}/send-back", {"reason": "请补充外资股比核查"})
    assert done.status_code == 302
    review = open_tasks(sqlite_engine, case_no)["Task_LeadReview"]
    flashed = text(client.get("/"))
    assert f"已将{case_no}退回上一环节:主办科室审查" in flashed
    reopened = text(client.get(f"/tasks/{review.id}"))
    assert 'id="task-returned"' in reopened and "退回理由:请补充外资股比核查" in reopened
    opinions = reopened[reopened.index('id="opinion-list"') :]
    assert 'data-kind="task_sent_back"' in opinions and "请补充外资股比核查" in opinions  # with the opinions

    # The window's first step has nothing before it: one line, nothing changed.
    auth.logout()
    auth.login("lijing")
    other = start_fi(sqlite_engine)
    first = open_tasks(sqlite_engine, other)["Task_Intake"]
    refused = post(client, f"/tasks/{first.id}/send-back", {"reason": "测试"}, follow_redirects=True)
    assert refused.status_code == 200 and "没有可以退回的上一环节" in text(refused)
    assert open_tasks(sqlite_engine, other)["Task_Intake"].state == "ready"
    assert intake.id != first.id


def test_the_task_page_sends_back_in_english(client: FlaskClient, auth: AuthActions, sqlite_engine: Engine) -> None:
    case_no = start_fi(sqlite_engine)
    run_fi_to_decision(sqlite_engine, case_no)
    decision = open_tasks(sqlite_engine, case_no)["Task_LeadDecision"]
    auth.login("zhangwei")
    post(client, "/lang", {"lang": "en"})
    page = text(client.get(f"/tasks/{decision.id}"))
    assert "Send back to the previous step" in page and "Reason for sending back" in page
    post(client, f"/tasks/{decision.id}/send-back", {"reason": "check the shareholding"})
    review = open_tasks(sqlite_engine, case_no)["Task_LeadReview"]
    reopened = text(client.get(f"/tasks/{review.id}"))
    assert "sent the case back to this step on" in reopened and "Reason: check the shareholding" in reopened


def test_task_send_back_on_the_command_line(runner: OnewindowRunner, sqlite_engine: Engine) -> None:
    case_no = start_fi(sqlite_engine)
    run_fi_to_decision(sqlite_engine, case_no)
    decision = open_tasks(sqlite_engine, case_no)["Task_LeadDecision"]
    result = runner.run("task", "send-back", decision.id, "--user", "zhangwei", "--reason", "核实经营范围")
    assert result.exit_code == 0, result.output
    review = open_tasks(sqlite_engine, case_no)["Task_LeadReview"]
    assert f"sent back: {case_no} → 主办科室审查" in result.output and review.id in result.output
    again = runner.run("task", "send-back", decision.id, "--user", "zhangwei", "--reason", "再次")
    assert again.exit_code == 1 and again.output.strip().count("\n") == 0 and "already cancelled" in again.output
    missing = runner.run("task", "send-back", review.id, "--user", "zhangwei")
    assert missing.exit_code == 2  # --reason is required


# -- called processes (现场踏勘 as a call activity) ----------------------------------------------------------
def test_send_back_goes_into_and_out_of_a_called_process(engine: Engine, database_url: str, clock: FixedClock) -> None:
    """The first step of a called process goes back to the step before its call activity; the step after a
    call activity goes back to the called process's last step; each rebuilt case equals the live one."""
    from .test_inspection_pattern import APPLICANT, APPOINTMENT, HYGIENE, PNG, RECORD
    from .test_step_log import assert_rebuilt_equals_cached

    case_no = engine.cases.start(HYGIENE, APPLICANT, actor="lijing").case_no
    intake = {"materials_received": ["M01", "M02", "M03", "M04", "M05"]}
    engine.tasks.complete(open_tasks(engine, case_no)["Task_Intake"].id, user="lijing", data=intake)
    appointment = open_tasks(engine, case_no)["Task_InspectionAppointment"]

    back = engine.tasks.send_back(appointment.id, user="wujun", reason="受理材料与现场地址不一致")
    assert back.bpmn_id == "Task_Intake" and set(open_tasks(engine, case_no)) == {"Task_Intake"}
    assert_rebuilt_equals_cached(engine, database_url, clock, case_no)

    engine.tasks.complete(back.id, user="lijing", data=intake)
    team = {**APPOINTMENT, "inspectors": ["zhoutao", "wujun"]}
    engine.tasks.complete(open_tasks(engine, case_no)["Task_InspectionAppointment"].id, user="wujun", data=team)
    engine.files.add(case_no, [Upload("SITE", "site.png", PNG)], actor="wujun")
    record = {**RECORD, "inspection_result": "passed", "confirmed_by": ["zhoutao", "wujun"]}
    engine.tasks.complete(open_tasks(engine, case_no)["Task_InspectionRecord"].id, user="wujun", data=record)
    decision = open_tasks(engine, case_no)["Task_Decision"]

    assert decision.section == "market"
    back = engine.tasks.send_back(decision.id, user="sunli", reason="核查记录需补充")
    assert back.bpmn_id == "Task_InspectionRecord" and back.claimed_by == "wujun"
    assert set(open_tasks(engine, case_no)) == {"Task_InspectionRecord"}
    assert_rebuilt_equals_cached(engine, database_url, clock, case_no)
    engine.tasks.complete(back.id, user="wujun", data=record)
    assert set(open_tasks(engine, case_no)) == {"Task_Decision"}
    assert_rebuilt_equals_cached(engine, database_url, clock, case_no)
