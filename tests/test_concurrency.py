"""Real concurrent connections: two engines (as two servers) act on one case at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from onewindow.engine import ConflictError, Engine, FixedClock
from onewindow.engine._store.models import EventRow, TaskRow

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, open_tasks


def race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released together; return each result or the exception it raised."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = action()
        except Exception as err:
            results[i] = err

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_clerks_complete_the_same_task(engine: Engine, database_url: str, clock: FixedClock) -> None:
    second = Engine(database_url, clock=clock)
    try:
        for _ in range(4):
            case = engine.cases.start(FI, FI_APPLICANT)
            intake = open_tasks(engine, case.case_no)["Task_Intake"]
            data = {"materials_received": ALL_FI_MATERIALS, "negative_list": False}
            results = race(
                partial(engine.tasks.complete, intake.id, user="lijing", data=data),
                partial(second.tasks.complete, intake.id, user="wangfang", data=data),
            )
            errors = [r for r in results if isinstance(r, Exception)]
            assert len(errors) == 1, results
            assert isinstance(errors[0], ConflictError), errors[0]
            assert "already completed" in str(errors[0])
            with engine.db.reading() as s:
                completed = s.scalar(
                    select(func.count()).where(EventRow.task_id == intake.id, EventRow.kind == "task_completed")
                )
                reviews = s.scalar(
                    select(func.count())
                    .where(TaskRow.bpmn_id == "Task_LeadReview", TaskRow.state == "ready")
                    .where(TaskRow.case_id == select(TaskRow.case_id).where(TaskRow.id == intake.id).scalar_subquery())
                )
            assert completed == 1
            assert reviews == 1  # the case moved on exactly once
    finally:
        second.close()


def test_parallel_reviews_completed_at_once_both_count(engine: Engine, database_url: str, clock: FixedClock) -> None:
    """Different tasks of one case at the same moment: serialised per case, neither is lost."""
    second = Engine(database_url, clock=clock)
    try:
        case = engine.cases.start(FI, FI_APPLICANT)
        intake = open_tasks(engine, case.case_no)["Task_Intake"]
        engine.tasks.complete(
            intake.id, user="lijing", data={"materials_received": ALL_FI_MATERIALS, "negative_list": False}
        )
        t = open_tasks(engine, case.case_no)
        results = race(
            lambda: engine.tasks.complete(
                t["Task_InvestmentCoReview"].id, user="chenjie", data={"co_opinion": "同意", "co_agree": True}
            ),
            lambda: second.tasks.complete(
                t["Task_FinanceCoReview"].id, user="zhaomin", data={"co_opinion": "同意", "co_agree": True}
            ),
            lambda: engine.tasks.complete(
                t["Task_LeadReview"].id, user="zhangwei", data={"review_opinion": "同意", "conditions_met": True}
            ),
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        assert list(open_tasks(second, case.case_no)) == ["Task_LeadDecision"]
    finally:
        second.close()


def test_a_step_that_cancels_a_task_never_deadlocks_with_its_completion(
    engine: Engine, database_url: str, clock: FixedClock
) -> None:
    """The lead review is completed after the co-reviews' 3 working days: the same step fires their timers
    and cancels them (逾期视为同意), while a co-reviewer completes his at that moment. The co-reviewer waits
    for the case and is told his task was cancelled; before, his statement held the task row the step had to
    cancel, and PostgreSQL broke the deadlock by failing one of them."""
    if engine.db.is_sqlite:
        pytest.skip("SQLite runs one writer at a time: no row locks to deadlock on")
    case = engine.cases.start(FI, FI_APPLICANT)
    engine.tasks.complete(
        open_tasks(engine, case.case_no)["Task_Intake"].id,
        user="lijing",
        data={"materials_received": ALL_FI_MATERIALS, "negative_list": False},
    )
    t = open_tasks(engine, case.case_no)
    clock.set(clock.now() + timedelta(days=7))  # both co-review timers are due now
    second = Engine(database_url, clock=clock)
    paused, release = threading.Event(), threading.Event()

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The step holds the case and is about to write the task rows it closed: stop it there.
        if statement.startswith("UPDATE tasks SET state") and not paused.is_set():
            paused.set()
            release.wait(30)

    event.listen(engine.db.engine, "before_cursor_execute", hook := hold)
    results: dict[str, Any] = {}

    def lead() -> None:
        try:
            results["lead"] = engine.tasks.complete(
                t["Task_LeadReview"].id, user="zhangwei", data={"review_opinion": "同意", "conditions_met": True}
            )
        except Exception as err:
            results["lead"] = err

    def co_review() -> None:
        try:
            results["co"] = second.tasks.complete(
                t["Task_InvestmentCoReview"].id, user="chenjie", data={"co_opinion": "同意", "co_agree": True}
            )
        except Exception as err:
            results["co"] = err

    try:
        first = threading.Thread(target=lead)
        first.start()
        assert paused.wait(30), "the lead review's step never reached its task updates"
        other = threading.Thread(target=co_review)
        other.start()
        with engine.db.engine.connect() as conn:  # until the co-reviewer waits for a lock
            for _ in range(300):
                waiting = conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                )
                if waiting:
                    break
                threading.Event().wait(0.05)
            assert waiting, "the co-review never waited for the case"
        release.set()
        first.join(60)
        other.join(60)
    finally:
        release.set()
        event.remove(engine.db.engine, "before_cursor_execute", hook)
        second.close()
    assert not isinstance(results["lead"], Exception), results
    assert isinstance(results["co"], ConflictError), results
    assert "already cancelled" in str(results["co"])
    with engine.db.reading() as s:
        cancelled = s.scalar(select(TaskRow.state).where(TaskRow.id == t["Task_InvestmentCoReview"].id))
    assert cancelled == "cancelled"
    assert list(open_tasks(engine, case.case_no)) == ["Task_LeadDecision"]
