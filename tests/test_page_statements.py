"""The case page and the task page are one read each: the SQL statements they issue are counted, so the
old ten-sessions-per-page shape (32 and 29 statements) cannot creep back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from onewindow.engine import Engine, FixedClock, LockoutPolicy, SessionPolicy

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, PASSWORD, AuthActions, open_tasks, text

# BEGIN, the case (with its definition and the visibility check), its task rows, its history, the clock's
# pauses and extensions, the display names, and the stored state when the case is not in the cache.
CASE_PAGE_MAX = 8
# BEGIN, the task (with its case and definition), the case's task rows, its history, the section's
# members (a chief's reassign list) and the display names.
TASK_PAGE_MAX = 7


class Statements:
    """SQL statements sent to the database while ``counting`` is on (``before_cursor_execute``)."""

    def __init__(self) -> None:
        self.counting = False
        self.seen: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.counting:
            self.seen.append(" ".join(statement.split())[:120])

    @contextmanager
    def count(self) -> Iterator[list[str]]:
        self.seen = []
        self.counting = True
        try:
            yield self.seen
        finally:
            self.counting = False


@contextmanager
def statements(engine: Engine) -> Iterator[Statements]:
    counter = Statements()
    event.listen(engine.db.engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", counter)


def busy_case(engine: Engine, clock: FixedClock) -> str:
    """An accepted case: one co-review done, the lead review claimed, the clock paused and extended."""
    case_no = engine.cases.intake(
        FI, FI_APPLICANT, {"materials_received": ALL_FI_MATERIALS, "negative_list": False}, actor="lijing"
    ).summary.case_no
    tasks = open_tasks(engine, case_no)
    engine.tasks.complete(
        tasks["Task_InvestmentCoReview"].id, user="chenjie", data={"co_opinion": "同意", "co_agree": True}
    )
    engine.tasks.claim(tasks["Task_LeadReview"].id, user="zhangwei")
    clock.advance(timedelta(days=1))
    engine.case_clock.pause(case_no, kind="expert_review", reason="专家评审", actor="zhangwei")
    engine.case_clock.extend(case_no, working_days=3, approver="局长", reason="复杂", actor="zhangwei")
    return case_no


def test_engine_pages_are_one_read_each(engine: Engine, clock: FixedClock) -> None:
    case_no = busy_case(engine, clock)
    admin = engine.users.find("huangqiang")
    chief = engine.users.find("zhangwei")
    assert admin is not None and chief is not None and chief.chief_of("commerce")
    with statements(engine) as counter:
        for cold in (False, True):
            if cold:  # another server changed the case: its state is read from the database
                engine.runtime._cases.clear()
            with counter.count() as seen:
                page = engine.cases.page(admin, case_no)
            assert 3 <= len(seen) <= CASE_PAGE_MAX, seen
        assert page.summary.case_no == case_no and page.clock.paused_at is not None
        assert len(page.clock.committed.extensions if page.clock.committed else []) == 1
        assert {t.bpmn_id for t in page.open_tasks} == {"Task_LeadReview", "Task_FinanceCoReview"}
        assert {"Task_Intake", "Task_InvestmentCoReview"} <= page.diagram.done
        assert page.diagram.current == {"Task_LeadReview", "Task_FinanceCoReview"}
        assert page.user_names["lijing"] == "李静" and page.user_names["zhangwei"]
        lead = next(t for t in page.open_tasks if t.bpmn_id == "Task_LeadReview")
        with counter.count() as seen:
            task_page = engine.tasks.page(chief, lead.id)
        assert 3 <= len(seen) <= TASK_PAGE_MAX, seen
    assert task_page.task.claimed_by == "zhangwei" and task_page.case.case_no == case_no
    opinions = [e.title for e in task_page.timeline if e.kind == "task_completed"]
    assert len(opinions) == 2  # the intake check and the investment co-review
    assert task_page.materials.received == ALL_FI_MATERIALS and not task_page.materials.missing
    assert task_page.form_schema is not None and "review_opinion" in task_page.form_schema["properties"]
    assert "zhangwei" in {m.username for m in task_page.members}


def _count_views(app: Flask, counter: Statements) -> None:
    """Count from the view on: hooks registered now run after the sign-in check."""

    def start() -> None:
        counter.seen.clear()
        counter.counting = True

    def stop(response: Any) -> Any:
        counter.counting = False
        return response

    app.before_request(start)
    app.after_request(stop)


def test_case_and_task_pages_count_their_statements(
    app: Flask, client: FlaskClient, auth: AuthActions, sqlite_engine: Engine, clock: FixedClock
) -> None:
    case_no = busy_case(sqlite_engine, clock)
    lead = open_tasks(sqlite_engine, case_no)["Task_LeadReview"]
    with statements(sqlite_engine) as counter:
        _count_views(app, counter)
        auth.login("zhangwei")  # the commerce chief: the task page lists his section's members too
        response = client.get(f"/cases/{case_no}")
        assert response.status_code == 200
        html = text(response)
        assert 'id="clock-paused"' in html and "<svg" in html and "李静" in html
        assert 3 <= len(counter.seen) <= CASE_PAGE_MAX, counter.seen

        sqlite_engine.runtime._cases.clear()  # cold: the diagram's state comes from the database
        assert client.get(f"/cases/{case_no}").status_code == 200
        assert 3 <= len(counter.seen) <= CASE_PAGE_MAX, counter.seen

        response = client.get(f"/tasks/{lead.id}")
        assert response.status_code == 200
        html = text(response)
        assert 'name="review_opinion"' in html and 'name="assignee"' in html and "同意" in html
        assert 3 <= len(counter.seen) <= TASK_PAGE_MAX, counter.seen


def test_a_section_inbox_is_one_statement_outside_any_transaction(engine: Engine, clock: FixedClock) -> None:
    """``tasks.for_section`` is one SELECT with no BEGIN/COMMIT around it; the pooled connection it used goes
    back to transactions, so a write after it that fails still leaves nothing behind."""
    from sqlalchemy import select

    from onewindow.engine._store.counters import next_value
    from onewindow.engine._store.models import CounterRow

    case_no = busy_case(engine, clock)
    with statements(engine) as counter, counter.count() as seen:
        inbox = engine.tasks.for_section("commerce")
    assert case_no in {task.case_no for task in inbox}
    assert len(seen) == 1 and seen[0].startswith("SELECT"), seen

    class Undo(Exception):
        pass

    try:
        with engine.db.writing() as session:
            assert next_value(session, "test-after-glance") == 1
            raise Undo
    except Undo:
        pass
    with engine.db.reading() as session:
        assert session.scalar(select(CounterRow.value).where(CounterRow.name == "test-after-glance")) is None


def test_a_signed_in_request_finds_its_user_in_one_statement(engine: Engine) -> None:
    """Every request of a signed-in user resumes its session: the session, the user and his sections in one
    statement on the token's unique index, not one per table, and without BEGIN and COMMIT around it."""
    policy = SessionPolicy(idle=timedelta(hours=1), absolute=timedelta(hours=12), touch_every=timedelta(hours=1))
    engine.users.set_password("zhangwei", PASSWORD)
    result = engine.access.sign_in("zhangwei", PASSWORD, lockout=LockoutPolicy(failures=5, lock_for=timedelta(1)))
    assert result.token is not None
    with statements(engine) as counter, counter.count() as seen:
        account = engine.access.resume(result.token, policy)
    assert account is not None and account.username == "zhangwei"
    assert account.sections == engine.users.get("zhangwei").sections and account.chief_of("commerce")
    assert len(seen) == 1 and seen[0].startswith("SELECT"), seen
    engine.access.sign_out(result.token)
    assert engine.access.resume(result.token, policy) is None


def test_a_task_a_view_only_names_is_one_statement(engine: Engine, clock: FixedClock) -> None:
    """claim, unclaim, reassign … check and name the task before the step that changes it: one statement, no
    transaction around it, the same view as the transaction's read."""
    case_no = busy_case(engine, clock)
    lead = open_tasks(engine, case_no)["Task_LeadReview"]
    user = engine.users.get("zhangwei")
    with statements(engine) as counter, counter.count() as seen:
        view = engine.tasks.get_for(user, lead.id)
    assert len(seen) == 1 and seen[0].startswith("SELECT"), seen
    assert view == engine.tasks.get(lead.id)


def test_a_completion_reads_its_task_and_form_in_one_statement(engine: Engine, clock: FixedClock) -> None:
    """Before the step, completing a task reads the task (as get_for finds it) and its form: one statement,
    not the task page's read; the same view and form as those reads give."""
    case_no = busy_case(engine, clock)
    lead = open_tasks(engine, case_no)["Task_LeadReview"]
    user = engine.users.get("zhangwei")
    with statements(engine) as counter, counter.count() as seen:
        view, form = engine.tasks.for_completion(user, lead.id)
    assert len(seen) == 1 and seen[0].startswith("SELECT"), seen
    assert view == engine.tasks.get_for(user, lead.id)
    assert form is not None and form == engine.tasks.form_schema(lead.id)
