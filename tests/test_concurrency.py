"""Real concurrent connections: two engines (as two servers) act on one case at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from onewindow.engine import ConflictError, Engine, FixedClock
from onewindow.engine._store.models import EventRow, TaskRow

from .conftest import ALL_FI_MATERIALS, FI, FI_APPLICANT, open_tasks


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
                lambda task_id=intake.id, data=data: engine.tasks.complete(task_id, user="lijing", data=data),
                lambda task_id=intake.id, data=data: second.tasks.complete(task_id, user="wangfang", data=data),
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
