"""The law's limits, all timed: intake (行政许可法 Art. 32), a step's due date moved by a pause."""

from __future__ import annotations

from datetime import UTC

from onewindow.engine import CaseStatus, Engine, FixedClock

from .helpers import ER_APPLICANT, FI, FI_APPLICANT, accept, china, open_tasks

ER = "enterprise_registration"


def test_intake_is_timed_and_a_missed_notice_counts_as_accepted_on_receipt(engine: Engine, clock: FixedClock) -> None:
    received = china(2026, 3, 2, 9, 30)  # a Monday
    clock.set(received.astimezone(UTC))
    licence = engine.cases.start(ER, ER_APPLICANT, actor="lijing").case_no
    filing = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    (intake,) = open_tasks(engine, licence).values()
    assert intake.due_at == china(2026, 3, 9, 17, 30)  # 5 working days: yellow, then red, like every step
    assert open_tasks(engine, filing)["Task_Intake"].due_at == china(2026, 3, 9, 17, 30)

    clock.set(china(2026, 3, 9, 17, 0).astimezone(UTC))  # still within the 5 days
    assert engine.case_clock.deem_accepted() == []
    clock.set(china(2026, 3, 10, 9, 0).astimezone(UTC))
    assert engine.case_clock.deem_accepted() == [licence]  # a 备案 is no licence: Art. 32 does not bind it
    assert engine.case_clock.deem_accepted() == []  # recorded once

    view = engine.cases.show(licence)
    assert view.summary.status == CaseStatus.ACCEPTED
    assert view.summary.accepted_at == received  # the clock starts at receipt, not at the late check
    assert view.summary.committed_due_at == engine.calendar.due(received, 1, "working_days")
    (deemed,) = [e for e in view.history if e.kind == "deemed_accepted"]
    assert "第三十二条" in deemed.title and deemed.actor in ("", None)
    assert engine.cases.show(filing).summary.status == CaseStatus.RECEIVED
    # the window's check still has to be done; accepting now does not move the clock's start
    engine.tasks.complete(
        intake.id,
        user="lijing",
        data={"materials_received": [m.code for m in engine.cases.materials(licence).matter.materials]},
    )
    assert engine.cases.show(licence).summary.accepted_at == received


def test_a_pause_moves_the_open_steps_own_due_date(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    co_review = open_tasks(engine, case_no)["Task_FinanceCoReview"]
    assert co_review.due_at == china(2026, 3, 5, 17, 30)  # stepLimit 3 working_days
    clock.set(china(2026, 3, 3, 10, 0).astimezone(UTC))  # Tuesday
    engine.case_clock.pause(case_no, kind="expert_review", reason="专家评审", actor="zhangwei")
    clock.set(china(2026, 3, 5, 10, 0).astimezone(UTC))  # Thursday: two working days paused
    engine.case_clock.resume(case_no, actor="zhangwei", result="评审通过")
    assert open_tasks(engine, case_no)["Task_FinanceCoReview"].due_at == china(2026, 3, 9, 17, 30)
    assert open_tasks(engine, case_no)["Task_LeadReview"].due_at is None  # no step limit, none invented
