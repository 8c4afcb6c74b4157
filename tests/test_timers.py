"""Working-day timers: a co-review left unanswered for 3 working days is deemed consent, exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC

from sqlalchemy import func, select

from onewindow.engine import Engine, FixedClock
from onewindow.engine._store.models import CaseRow, EventRow

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, accept, china, open_tasks


def test_next_timer_is_stored_at_acceptance(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    with engine.db.reading() as s:
        due = s.scalar(select(CaseRow.next_timer_at).where(CaseRow.case_no == case_no))
    assert due == china(2026, 3, 5, 17, 30)  # 3 working days after Monday's acceptance


def test_overdue_co_review_is_deemed_consent_once(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    t = open_tasks(engine, case_no)
    engine.tasks.complete(
        t["Task_InvestmentCoReview"].id, user="chenjie", data={"co_opinion": "同意", "co_agree": True}
    )

    clock.set(china(2026, 3, 5, 17, 0).astimezone(UTC))
    assert engine.timers.run_due() == []  # half an hour early: nothing fires

    clock.set(china(2026, 3, 5, 18, 0).astimezone(UTC))
    fired = engine.timers.run_due()
    assert [(f.case_no, f.timer_id) for f in fired] == [(case_no, "Timer_FinanceCoReviewOverdue")]
    assert list(open_tasks(engine, case_no)) == ["Task_LeadReview"]  # the finance co-review was withdrawn
    history = engine.cases.show(case_no).history
    assert [e.kind for e in history].count("timer_fired") == 1
    assert any(e.kind == "task_cancelled" and e.title == "财政科会审" for e in history)

    assert engine.timers.run_due() == []  # fired exactly once
    lead = open_tasks(engine, case_no)["Task_LeadReview"]
    engine.tasks.complete(lead.id, user="zhangwei", data={"review_opinion": "同意", "conditions_met": True})
    assert list(open_tasks(engine, case_no)) == ["Task_LeadDecision"]


def test_reviews_in_time_cancel_the_timers(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    t = open_tasks(engine, case_no)
    engine.tasks.complete(
        t["Task_InvestmentCoReview"].id, user="chenjie", data={"co_opinion": "同意", "co_agree": True}
    )
    engine.tasks.complete(t["Task_FinanceCoReview"].id, user="zhaomin", data={"co_opinion": "同意", "co_agree": True})
    with engine.db.reading() as s:
        assert s.scalar(select(CaseRow.next_timer_at).where(CaseRow.case_no == case_no)) is None
    clock.set(china(2026, 3, 20, 10, 0).astimezone(UTC))
    assert engine.timers.run_due() == []


def test_two_runner_processes_fire_each_timer_once(engine: Engine, clock: FixedClock, database_url: str) -> None:
    """Two `onewindow timers run --once` processes against one database (SKIP LOCKED on PostgreSQL)."""
    clock.set(china(2026, 3, 2, 9, 30).astimezone(UTC))
    cases = []
    for _ in range(40):
        case_no = engine.cases.start(FI, FI_APPLICANT).case_no
        intake = open_tasks(engine, case_no)["Task_Intake"]
        data = {"materials_received": ALL_FI_MATERIALS, "negative_list": False}
        engine.tasks.complete(intake.id, user="lijing", data=data)
        cases.append(case_no)
    command = [
        sys.executable,
        "-m",
        "onewindow.cli",
        "--database",
        database_url,
        "timers",
        "run",
        "--once",
        "--now",
        "2026-03-06T10:00:00+08:00",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    runners = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    outputs = [r.communicate(timeout=120) for r in runners]
    assert [r.returncode for r in runners] == [0, 0], outputs
    fired_lines = [line for out, _ in outputs for line in out.splitlines() if line.startswith("fired: ")]
    assert len(fired_lines) == 80 and len(set(fired_lines)) == 80
    with engine.db.reading() as s:
        events = s.execute(select(EventRow.case_id, EventRow.data).where(EventRow.kind == "timer_fired")).all()
        assert len(events) == 80
        assert len({(case_id, data["timer"]) for case_id, data in events}) == 80
        assert s.scalar(select(func.count()).where(CaseRow.next_timer_at.is_not(None))) == 0
    assert set(open_tasks(engine, cases[0])) == {"Task_LeadReview"}
