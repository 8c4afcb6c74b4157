"""Cases end to end through the persisted services, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from onewindow.engine import CaseStatus, Engine, FixedClock
from onewindow.engine._store.models import CaseRow, EventRow, TaskRow

from .helpers import ALL_FI_MATERIALS, ER_APPLICANT, FI, FI_APPLICANT, open_tasks, run_fi_to_decision


def test_foreign_investment_happy_path(engine: Engine, clock: FixedClock) -> None:
    case = engine.cases.start(FI, FI_APPLICANT, actor="lijing")
    assert case.case_no == "WH-2026-000001"
    assert case.status == CaseStatus.RECEIVED
    tasks = open_tasks(engine, case.case_no)
    assert list(tasks) == ["Task_Intake"]
    assert tasks["Task_Intake"].section == "window"

    run_fi_to_decision(engine, case.case_no)
    view = engine.cases.show(case.case_no)
    assert view.summary.status == CaseStatus.ACCEPTED
    # Accepted on Monday 2026-03-02: 7 working days later is Wednesday 2026-03-11, end of office hours.
    assert view.summary.accepted_at == clock.now()
    assert view.summary.committed_due_at == datetime(2026, 3, 11, 9, 30, tzinfo=UTC)
    assert [t.bpmn_id for t in view.open_tasks] == ["Task_LeadDecision"]

    t = open_tasks(engine, case.case_no)
    engine.tasks.complete(t["Task_LeadDecision"].id, user="zhangwei", data={"decision": "approve"})
    t = open_tasks(engine, case.case_no)
    engine.tasks.complete(t["Task_Seal"].id, user="zhangwei", data={"seal_no": "510107-01"})
    t = open_tasks(engine, case.case_no)
    assert t["Task_Issue"].section == "issuing"
    engine.tasks.complete(t["Task_Issue"].id, user="wangfang", data={"delivery": "window", "id_checked": True})

    view = engine.cases.show(case.case_no)
    assert view.summary.status == CaseStatus.APPROVED
    assert view.open_tasks == []
    kinds = [e.kind for e in view.history]
    assert kinds.count("task_completed") == 7
    assert "result_shared" in kinds
    shared = next(e for e in view.history if e.kind == "result_shared")
    assert shared.data["department"] == "commerce_bureau"
    assert shared.title == "推送审管信息: 武侯区商务局"
    done = engine.cases.diagram(case.case_no).done
    # the whole path taken, scripts, gateways and the service task included, not only the human tasks
    assert {"Task_Intake", "Task_CompareMaterials", "Task_Accept", "Gateway_ReviewJoin", "Task_ShareResult"} <= done
    assert "Task_RefuseAcceptance" not in done and "Task_Supplement" not in done
    milestones = [e.data["milestone"] for e in view.history if e.kind == "milestone"]
    assert milestones == ["accepted", "approved", "issued"]
    completed = [e for e in view.history if e.kind == "task_completed"]
    assert completed[0].actor == "lijing" and completed[0].data["form"]["materials_received"] == ALL_FI_MATERIALS


def test_missing_material_waits_in_supplement(engine: Engine) -> None:
    case = engine.cases.start(FI, FI_APPLICANT, actor="lijing")
    intake = open_tasks(engine, case.case_no)["Task_Intake"]
    engine.tasks.complete(intake.id, user="lijing", data={"materials_received": ["M01", "M02"], "negative_list": False})
    view = engine.cases.show(case.case_no)
    assert view.summary.status == CaseStatus.SUPPLEMENT
    assert view.summary.accepted_at is None  # 补正 time is outside the legal clock
    assert [t.bpmn_id for t in view.open_tasks] == ["Task_Supplement"]

    supplement = view.open_tasks[0]
    engine.tasks.complete(supplement.id, user="lijing", data={"supplemented_materials": ["M03", "M04", "M06"]})
    view = engine.cases.show(case.case_no)
    assert view.summary.status == CaseStatus.ACCEPTED
    assert {t.bpmn_id for t in view.open_tasks} == {
        "Task_LeadReview",
        "Task_InvestmentCoReview",
        "Task_FinanceCoReview",
    }
    sections = {t.section for t in view.open_tasks}
    assert sections == {"commerce", "investment", "finance"}


def test_negative_list_is_not_accepted(engine: Engine) -> None:
    case = engine.cases.start(FI, FI_APPLICANT, actor="lijing")
    intake = open_tasks(engine, case.case_no)["Task_Intake"]
    engine.tasks.complete(
        intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": True}
    )
    refuse = open_tasks(engine, case.case_no)["Task_RefuseAcceptance"]
    engine.tasks.complete(refuse.id, user="lijing", data={"reasons": "属于负面清单"})
    assert engine.cases.show(case.case_no).summary.status == CaseStatus.NOT_ACCEPTED


def test_refusal_ends_rejected(engine: Engine) -> None:
    case = engine.cases.start(FI, FI_APPLICANT, actor="lijing")
    run_fi_to_decision(engine, case.case_no)
    decision = open_tasks(engine, case.case_no)["Task_LeadDecision"]
    engine.tasks.complete(
        decision.id, user="zhangwei", data={"decision": "refuse", "decision_reasons": "投资者主体资格证明未经认证"}
    )
    deliver = open_tasks(engine, case.case_no)["Task_DeliverRefusal"]
    assert deliver.section == "issuing"
    engine.tasks.complete(
        deliver.id,
        user="wangfang",
        data={"delivery": "window", "id_checked": True, "delivered_on": "2026-03-05"},
    )
    assert engine.cases.show(case.case_no).summary.status == CaseStatus.REJECTED


def test_enterprise_registration_is_immediate(engine: Engine) -> None:
    applicant = ER_APPLICANT
    case = engine.cases.start("enterprise_registration", applicant, actor="lijing")
    assert engine.cases.show(case.case_no).summary.applicant_name == "成都武侯小面餐饮有限公司"
    intake = open_tasks(engine, case.case_no)["Task_Intake"]
    engine.tasks.complete(intake.id, user="lijing", data={"materials_received": ["M01", "M02", "M03", "M04", "M05"]})
    view = engine.cases.show(case.case_no)
    assert view.summary.status == CaseStatus.ACCEPTED
    assert [t.section for t in view.open_tasks] == ["market"]


def test_case_numbers_increase_and_each_step_is_one_row_version(engine: Engine) -> None:
    first = engine.cases.start(FI, FI_APPLICANT)
    second = engine.cases.start(FI, FI_APPLICANT)
    assert (first.case_no, second.case_no) == ("WH-2026-000001", "WH-2026-000002")
    with engine.db.reading() as s:
        assert s.scalar(select(CaseRow.version).where(CaseRow.case_no == second.case_no)) == 1
        assert s.scalar(select(func.count(TaskRow.id))) == 2
        assert s.scalar(select(func.count(EventRow.id)).where(EventRow.kind == "case_started")) == 2


def test_cold_reload_matches_warm_cache(engine: Engine, database_url: str, clock: FixedClock) -> None:
    """A second Engine (another server) sees and continues a case the first one advanced."""
    case = engine.cases.start(FI, FI_APPLICANT, actor="lijing")
    other = Engine(database_url, clock=clock)
    try:
        intake = open_tasks(other, case.case_no)["Task_Intake"]
        other.tasks.complete(
            intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
        )
        # The first engine's cached workflow is stale now; it must reload rather than reuse it.
        lead = open_tasks(engine, case.case_no)["Task_LeadReview"]
        engine.tasks.complete(lead.id, user="zhangwei", data={"review_opinion": "同意", "conditions_met": True})
        assert {t.bpmn_id for t in other.cases.show(case.case_no).open_tasks} == {
            "Task_InvestmentCoReview",
            "Task_FinanceCoReview",
        }
    finally:
        other.close()


@pytest.mark.parametrize("user", ["chenjie", "liuyang"])
def test_member_of_several_sections_sees_each(engine: Engine, user: str) -> None:
    case = engine.cases.start(FI, FI_APPLICANT, actor="lijing")
    run_intake = open_tasks(engine, case.case_no)["Task_Intake"]
    engine.tasks.complete(
        run_intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
    )
    co = open_tasks(engine, case.case_no)["Task_InvestmentCoReview"]
    engine.tasks.complete(co.id, user=user, data={"co_opinion": "同意", "co_agree": True})
    assert "Task_InvestmentCoReview" not in open_tasks(engine, case.case_no)
