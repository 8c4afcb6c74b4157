"""The worklist's engine service: the paged query, visibility, reassignment and intake in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from onewindow.engine import (
    CaseStatus,
    ConflictError,
    Engine,
    FixedClock,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    WorklistFilter,
)
from onewindow.engine._store.models import CaseRow, CounterRow

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, open_tasks, start_fi, task_id

COMPLETE = {"materials_received": ALL_FI_MATERIALS, "negative_list": False}


def accept(engine: Engine, clock: FixedClock, name: str, days_ago: int) -> str:
    """A case accepted ``days_ago`` days before the clock's present (the clock is put back afterwards)."""
    now = clock.now()
    clock.set(now - timedelta(days=days_ago))
    try:
        return engine.cases.intake(
            FI, {**FI_APPLICANT, "enterprise_name": name}, COMPLETE, actor="lijing"
        ).summary.case_no
    finally:
        clock.set(now)


def test_most_urgent_first_with_filters_search_and_paging(sqlite_engine: Engine, clock: FixedClock) -> None:
    engine = sqlite_engine
    late = accept(engine, clock, "晚到期公司", 0)
    early = accept(engine, clock, "早到期公司", 5)
    liuyang = engine.users.get("liuyang")  # commerce and investment
    page = engine.tasks.worklist(liuyang)
    assert page.total == 4
    assert [t.case_no for t in page.rows] == [early, early, late, late]  # by the case's committed due date
    assert {t.section for t in page.rows} == {"commerce", "investment"}

    only_commerce = engine.tasks.worklist(liuyang, WorklistFilter(section="commerce"))
    assert [t.bpmn_id for t in only_commerce.rows] == ["Task_LeadReview", "Task_LeadReview"]
    assert engine.tasks.worklist(liuyang, WorklistFilter(section="window")).total == 0  # not his section
    assert engine.tasks.worklist(liuyang, WorklistFilter(matter="enterprise_registration")).total == 0

    engine.tasks.claim(only_commerce.rows[0].id, user="liuyang")
    assert [t.case_no for t in engine.tasks.worklist(liuyang, WorklistFilter(mine=True)).rows] == [early]
    assert engine.tasks.worklist(liuyang, WorklistFilter(unclaimed=True)).total == 3

    assert {t.case_no for t in engine.tasks.worklist(liuyang, WorklistFilter(search="晚到期")).rows} == {late}
    assert {t.case_no for t in engine.tasks.worklist(liuyang, WorklistFilter(search=late[-6:])).rows} == {late}
    assert engine.tasks.worklist(liuyang, WorklistFilter(search="%")).total == 0  # LIKE wildcards are literal

    second = engine.tasks.worklist(liuyang, page=2, per_page=3)
    assert (second.total, second.pages, len(second.rows)) == (4, 2, 1)
    assert second.rows[0].case_no == late


def test_worklist_queries_are_bounded_and_merge_sections_in_urgency_order(
    sqlite_engine: Engine, clock: FixedClock
) -> None:
    for i in range(6):
        accept(sqlite_engine, clock, f"公司{i}", i)
    liuyang = sqlite_engine.users.get("liuyang")  # commerce and investment: two sections to merge
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    for per_page in (50, 4):
        statements.clear()
        event.listen(sqlite_engine.db.engine, "before_cursor_execute", count)
        try:
            page = sqlite_engine.tasks.worklist(liuyang, per_page=per_page)
        finally:
            event.remove(sqlite_engine.db.engine, "before_cursor_execute", count)
        assert page.total == 12 and len(page.rows) == min(12, per_page)
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        # a count per section, one merged page of ids, one read of those rows: never a query per row
        assert len(selects) == len(liuyang.sections) + 2, selects
        assert "UNION ALL" in selects[2] and "ORDER BY" in selects[2] and "cases" not in selects[2].split("FROM", 1)[1]
    everything = sqlite_engine.tasks.worklist(liuyang, per_page=50).rows
    keys = [(t.case_due_at, t.created_at) for t in everything]
    assert keys == sorted(keys)
    assert {t.section for t in everything} == {"commerce", "investment"}
    second = sqlite_engine.tasks.worklist(liuyang, page=2, per_page=4).rows
    assert [t.id for t in second] == [t.id for t in everything[4:8]]


def test_counting_stops_at_the_cap(sqlite_engine: Engine, clock: FixedClock) -> None:
    for i in range(3):
        accept(sqlite_engine, clock, f"公司{i}", i)
    liuyang = sqlite_engine.users.get("liuyang")
    assert (sqlite_engine.tasks.worklist(liuyang).total, sqlite_engine.tasks.worklist(liuyang).more) == (6, False)
    sqlite_engine.tasks.count_cap = 4
    page = sqlite_engine.tasks.worklist(liuyang, per_page=2, page=3)
    assert (page.total, page.more) == (4, True)
    assert len(page.rows) == 2  # paging itself is not capped
    filtered = sqlite_engine.tasks.worklist(liuyang, WorklistFilter(search="公司"), per_page=50)
    assert (filtered.total, filtered.more, len(filtered.rows)) == (4, True, 6)


def test_visibility(sqlite_engine: Engine) -> None:
    case_no = start_fi(sqlite_engine)
    users = sqlite_engine.users
    assert sqlite_engine.cases.can_view(users.get("lijing"), case_no)
    assert not sqlite_engine.cases.can_view(users.get("zhangwei"), case_no)  # not in commerce yet
    assert sqlite_engine.cases.can_view(users.get("huangqiang"), case_no)  # the administrator
    # Outside his sections a case or task is "unknown", in the same words as one that does not exist.
    intake = task_id(sqlite_engine, case_no, "Task_Intake")
    with pytest.raises(NotFoundError, match=f"^unknown case '{case_no}'$"):
        sqlite_engine.cases.check_access(users.get("zhangwei"), case_no)
    with pytest.raises(NotFoundError, match=f"^unknown task '{intake}'$"):
        sqlite_engine.tasks.get_for(users.get("zhangwei"), intake)
    sqlite_engine.tasks.complete(task_id(sqlite_engine, case_no, "Task_Intake"), user="lijing", data=COMPLETE)
    assert sqlite_engine.cases.can_view(users.get("zhangwei"), case_no)
    assert [c.case_no for c in sqlite_engine.cases.page_for(users.get("chenjie")).rows] == [case_no]
    assert sqlite_engine.cases.page_for(users.get("sunli")).total == 0


def test_reassign_within_the_section(sqlite_engine: Engine, clock: FixedClock) -> None:
    case_no = accept(sqlite_engine, clock, "改派公司", 0)
    lead = task_id(sqlite_engine, case_no, "Task_LeadReview")
    chief, clerk = sqlite_engine.users.get("zhangwei"), sqlite_engine.users.get("liuyang")
    view = sqlite_engine.tasks.set_assignee(lead, by=chief, to="liuyang")
    assert view.claimed_by == "liuyang"
    with pytest.raises(PermissionDeniedError):
        sqlite_engine.tasks.set_assignee(lead, by=clerk, to="zhangwei")  # a clerk may not
    with pytest.raises(PermissionDeniedError):
        sqlite_engine.tasks.set_assignee(lead, by=sqlite_engine.users.get("chenjie"), to="liuyang")  # other section
    with pytest.raises(ValidationError, match="not a member"):
        sqlite_engine.tasks.set_assignee(lead, by=chief, to="lijing")
    assert sqlite_engine.tasks.set_assignee(lead, by=chief, to=None).claimed_by is None
    sqlite_engine.tasks.complete(lead, user="zhangwei", data={"review_opinion": "同意", "conditions_met": True})
    with pytest.raises(ConflictError):
        sqlite_engine.tasks.set_assignee(lead, by=chief, to="liuyang")
    kinds = [e.kind for e in sqlite_engine.cases.timeline(case_no)]
    assert kinds.count("task_reassigned") == 2


def test_intake_is_one_transaction(sqlite_engine: Engine) -> None:
    with pytest.raises(ValidationError) as err:
        sqlite_engine.cases.intake(FI, FI_APPLICANT, {"materials_received": ["M01"]}, actor="lijing")
    assert [e.field for e in err.value.errors] == ["check.negative_list"]
    with pytest.raises(ValidationError) as err:
        sqlite_engine.cases.intake(FI, {**FI_APPLICANT, "contact_mobile": "12"}, COMPLETE, actor="lijing")
    assert [e.field for e in err.value.errors] == ["applicant.contact_mobile"]
    with pytest.raises(PermissionDeniedError):
        sqlite_engine.cases.intake(FI, FI_APPLICANT, COMPLETE, actor="zhangwei")  # not at the window
    with sqlite_engine.db.reading() as s:
        assert s.scalar(select(func.count(CaseRow.id))) == 0  # no half-registered case
        assert s.scalar(select(func.count(CounterRow.name))) == 0  # and no case number used up

    result = sqlite_engine.cases.intake(FI, FI_APPLICANT, {**COMPLETE, "materials_received": ["M01"]}, actor="lijing")
    assert result.summary.case_no == "WH-2026-000001"
    assert result.summary.status == CaseStatus.SUPPLEMENT
    assert [m.code for m in result.missing] == ["M02", "M03", "M04", "M06"]
    assert [t.bpmn_id for t in result.open_tasks] == ["Task_Supplement"]
    # The warm cache holds the committed state: the next step continues from it.
    sqlite_engine.tasks.complete(
        result.open_tasks[0].id, user="lijing", data={"supplemented_materials": ["M02", "M03", "M04", "M06"]}
    )
    assert set(open_tasks(sqlite_engine, result.summary.case_no)) == {
        "Task_LeadReview",
        "Task_InvestmentCoReview",
        "Task_FinanceCoReview",
    }
    status = sqlite_engine.cases.materials(result.summary.case_no)
    assert status.missing == [] and status.received == ["M01", "M02", "M03", "M04", "M06"]


def test_intake_form_and_timeline_descriptions(sqlite_engine: Engine) -> None:
    assert sqlite_engine.cases.intake_form(FI) == "intake_check.json"
    assert sqlite_engine.cases.intake_form("enterprise_registration") == "registration_intake_check.json"
    case_no = sqlite_engine.cases.intake(FI, FI_APPLICANT, COMPLETE, actor="lijing").summary.case_no
    intake = next(e for e in sqlite_engine.cases.timeline(case_no) if e.kind == "task_completed")
    fields = {f.name: f for f in intake.fields}
    assert fields["materials_received"].title == "已收材料"
    assert fields["materials_received"].value[0] == "外商投资企业设立备案申报表"
    assert fields["negative_list"].value is False
    applicant = {f.name: f.value for f in sqlite_engine.cases.applicant(case_no)}
    assert applicant["currency"] == "美元" and applicant["registered_capital"] == "500"
    diagram = sqlite_engine.cases.diagram(case_no)
    assert {"Task_Intake", "Task_CompareMaterials", "Task_Accept", "Gateway_ReviewFork"} <= diagram.done
    assert "Task_LeadReview" in diagram.current and "Task_LeadReview" not in diagram.done
    assert diagram.bpmn_xml.startswith(b"<?xml")
